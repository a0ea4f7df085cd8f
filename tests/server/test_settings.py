"""Settings: config file, environment, and clear errors for bad keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "server.example.toml"


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_SERVER_DB", raising=False)
    monkeypatch.delenv("KIOSK_SERVER_DATA", raising=False)
    s = Settings.resolve(config=EXAMPLE)
    assert s.closed_weekdays == frozenset({6}) and s.offline_pin_hashes is False
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("server.db")


def test_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KIOSK_SERVER_DB", "sqlite:///x.db")
    monkeypatch.setenv("KIOSK_SERVER_DATA", str(tmp_path))
    s = Settings.resolve()
    assert (s.db_url, s.data_dir) == ("sqlite:///x.db", tmp_path)


def test_bad_keys_name_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text("[server]\nclosed_weekdays = [7]\n")
    with pytest.raises(SettingsError, match=r"s\.toml: server\.closed_weekdays"):
        Settings.resolve(config=cfg)
    cfg.write_text("[server\n")
    with pytest.raises(SettingsError, match="cannot read config"):
        Settings.resolve(config=cfg)
