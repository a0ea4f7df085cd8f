"""Generate the kiosk's cue sounds (stdlib ``wave``) and its default logo (Pillow).

Run ``python kiosk/assets/make_assets.py``; the outputs are committed."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
OUT = ASSETS / "sounds"
RATE = 22050


def tone(notes: list[tuple[float, float]], path: Path, volume: float = 0.5) -> None:
    frames = bytearray()
    for freq, dur in notes:
        n = int(RATE * dur)
        for i in range(n):
            # Short fade in/out so the cue does not click.
            env = min(1.0, i / (RATE * 0.01), (n - i) / (RATE * 0.02))
            s = volume * env * math.sin(2 * math.pi * freq * i / RATE)
            frames += struct.pack("<h", int(s * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


def logo(path: Path, size: int = 256) -> None:
    """An open book on a deep blue rounded square: the default when config names no logo."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=(11, 46, 89, 255))
    s = size / 256
    left = [(40 * s, 70 * s), (124 * s, 86 * s), (124 * s, 200 * s), (40 * s, 184 * s)]
    right = [(132 * s, 86 * s), (216 * s, 70 * s), (216 * s, 184 * s), (132 * s, 200 * s)]
    d.polygon(left, fill=(255, 255, 255, 255))
    d.polygon(right, fill=(255, 255, 255, 255))
    for i in range(4):
        y = (100 + i * 20) * s
        d.line((56 * s, y, 110 * s, y + 10 * s), fill=(11, 46, 89, 255), width=max(2, int(4 * s)))
        d.line((146 * s, y + 10 * s, 200 * s, y), fill=(11, 46, 89, 255), width=max(2, int(4 * s)))
    img.save(path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tone([(880, 0.09), (1320, 0.14)], OUT / "success.wav")
    tone([(330, 0.18), (247, 0.26)], OUT / "error.wav")
    tone([(660, 0.12), (660, 0.12)], OUT / "warning.wav")
    logo(ASSETS / "logo.png")


if __name__ == "__main__":
    main()
