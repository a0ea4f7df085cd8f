"""Success and error sounds. A kiosk without an audio device still runs silently."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from kiosk.ui.theme import ASSETS

log = logging.getLogger(__name__)

SOUNDS = {"success": "success.wav", "error": "error.wav", "warning": "warning.wav"}


def _playback_device() -> bool:
    """False on a Linux machine with no sound card to play through; True elsewhere."""
    if not sys.platform.startswith("linux"):
        return True
    snd = Path("/dev/snd")
    try:
        return any(p.name.startswith("pcm") and p.name.endswith("p") for p in snd.iterdir())
    except OSError:
        return False


class Sounds:
    """Plays short cues through Kivy's SoundLoader; every failure is logged, never raised."""

    def __init__(self, *, enabled: bool = True, volume: float = 0.6) -> None:
        self.enabled = enabled and volume > 0
        self.volume = volume
        self._loaded: dict[str, object] = {}
        if not self.enabled:
            return
        if not _playback_device():
            # Without this check the audio backend's probe prints about ten ALSA
            # error lines to the terminal before the window opens.
            log.warning("no sound card found: sounds are off")
            self.enabled = False
            return
        try:
            from kivy.core.audio import SoundLoader
        except (ImportError, OSError) as exc:
            log.warning("no audio: %s", exc)
            self.enabled = False
            return
        for name, file in SOUNDS.items():
            path = ASSETS / "sounds" / file
            try:
                snd = SoundLoader.load(str(path))
            except Exception as exc:  # noqa: BLE001 - audio backends raise anything; stay silent
                log.warning("cannot load sound %s: %s", path, exc)
                snd = None
            if snd is not None:
                snd.volume = volume
                self._loaded[name] = snd

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        snd = self._loaded.get(name)
        if snd is None:
            return
        try:
            snd.stop()  # type: ignore[attr-defined]
            snd.play()  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a missing audio device must not crash
            log.warning("cannot play %s: %s", name, exc)
