"""Kiosk config: a wrong key or value stops start-up with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from kiosk.cli import main as kiosk_main
from kiosk.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_is_valid_and_complete():
    settings = load_settings(ROOT / "config" / "kiosk.example.toml")
    assert settings.server.decision_timeout_s == 1.5
    assert settings.devices.scanners == ["wedge:"]
    assert settings.offline.max_items_per_session == 3
    assert settings.codes.rules().patron_patterns == (r"^AGT\d{4,10}$",)
    # data_dir is taken relative to the config file, not the current folder
    assert settings.kiosk.data_dir == (ROOT / "config" / "data" / "kiosk").resolve()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[kiosk]\nnmae = 'x'\n", "[kiosk] nmae: unknown key"),
        ("[offline]\nmax_items_per_session = 'three'\n", "[offline] max_items_per_session"),
        ("[devices]\npaper_mm = 57\n", "[devices] paper_mm"),
        ("[server]\nurl = 'ftp://x'\n", "[server] url"),
        ("[codes]\nitem_patterns = ['(']\n", "[codes] item_patterns"),
        ("[wedge\n", "not valid TOML"),
        ("scanners = ['wedge:']\n", "scanners: unknown key"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, needle):
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_cli_reports_bad_config_without_traceback(tmp_path, capsys):
    path = tmp_path / "kiosk.toml"
    path.write_text("[ui]\nidle_timeout_s = -1\n")
    assert kiosk_main(["--config", str(path), "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kiosk: ") and "[ui] idle_timeout_s" in err
    assert "Traceback" not in err


def test_missing_config_file(tmp_path, capsys):
    assert kiosk_main(["--config", str(tmp_path / "nope.toml"), "status"]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_hash_pin_makes_a_hash_the_staff_flow_accepts(tmp_path, monkeypatch, capsys):
    import io

    from kiosk.config import parse_settings
    from kiosk.flows.staff import staff_pin_ok

    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert kiosk_main(["hash-pin"]) == 0
    pin_hash = capsys.readouterr().out.strip()
    settings = parse_settings({"ui": {"staff_pin_hash": pin_hash}})
    assert staff_pin_ok(settings, "2468")
    assert not staff_pin_ok(settings, "9999")
    for bad in ("12", "²²²²"):
        monkeypatch.setattr("sys.stdin", io.StringIO(bad + "\n"))
        assert kiosk_main(["hash-pin"]) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.2.10:8080",
        "http://pustaka.perpus.example",
        "http://[2001:db8::1]:8080",
        "http://127.0.0.1.evil.example",
    ],
)
def test_plain_http_to_another_machine_is_refused_at_load(tmp_path, url):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[server]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert message.startswith(f"{path}: [server] url: plain http://")
    assert "allow_plain_http" in message and "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.8.9.10:8080",
        "http://[::1]:8080",
        "http://localhost:8080",
        "https://pustaka.perpus.example",
        "https://192.0.2.10:8443",
    ],
)
def test_https_and_loopback_http_load(tmp_path, url):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[server]\nurl = "{url}"\n')
    assert load_settings(path).server.url == url


def test_allow_plain_http_lets_staff_choose_clear_text(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[server]\nurl = "http://192.0.2.10:8080"\nallow_plain_http = true\n')
    assert load_settings(path).server.allow_plain_http


def test_missing_ca_file_names_file_and_key(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[server]\nurl = "https://192.0.2.10"\nca_file = "nope.pem"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"{path}: [server] ca_file: cannot read ")
