"""Settings: config file, environment, and clear errors for bad keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.ils import make_connector
from server.ils.inlislite import InlisliteConnector
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
    with pytest.raises(SettingsError, match=r"s\.toml: \[server\] closed_weekdays: .* 6"):
        Settings.resolve(config=cfg)
    cfg.write_text("[server\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.resolve(config=cfg)


def test_every_problem_of_a_file_at_once(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        "[server]\nclosed_weekdays = [6, 9]\nstaff_session_hours = 0\noffline_pin_hashs = true\n"
    )
    with pytest.raises(SettingsError) as err:
        Settings.resolve(config=cfg)
    problems = err.value.problems
    assert len(problems) == 3, problems
    assert any("[server] closed_weekdays:" in p for p in problems)
    wanted = "[server] staff_session_hours: Input should be greater than 0"
    assert any(wanted in p for p in problems)
    unknown = [p for p in problems if "offline_pin_hashs" in p]
    assert unknown and "unknown key; allowed" in unknown[0] and "offline_pin_hashes" in unknown[0]
    cfg.write_text("[srever]\ndb_url = 'sqlite://'\n")
    with pytest.raises(SettingsError, match=r"\[srever\]: unknown section"):
        Settings.resolve(config=cfg)


def test_ils_kinds_choose_their_connector(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KIOSK_ILS_URL", raising=False)
    cfg = tmp_path / "s.toml"
    url = "mysql+pymysql://kiosk@127.0.0.1/inlislite"
    cfg.write_text(f'[server]\ndata_dir = "{tmp_path}"\n[server.ils]\nkind = "inlislite"\n'
                   f'url = "{url}"\nstaff_uid = 9\n')  # fmt: skip
    s = Settings.resolve(config=cfg)
    connector = make_connector(s.ils)
    assert isinstance(connector, InlisliteConnector) and connector.kind == "inlislite"
    assert connector.uid == 9 and str(connector.engine.url.database) == "inlislite"
    cfg.write_text('[server.ils]\nkind = "inlislite"\n')
    with pytest.raises(SettingsError, match='url is required when kind = "inlislite"'):
        Settings.resolve(config=cfg)


def test_ils_sweep_interval_is_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[server.ils]\nkind = "slims"\nurl = "mysql+pymysql://k@h/s"\n')
    assert Settings.resolve(config=cfg).ils.sweep_interval_s == 3600
    cfg.write_text(
        '[server.ils]\nkind = "slims"\nurl = "mysql+pymysql://k@h/s"\nsweep_interval_s = 5\n'
    )
    with pytest.raises(
        SettingsError, match=r"\[server\] ils\.sweep_interval_s: .*greater than or equal to 60"
    ):
        Settings.resolve(config=cfg)
