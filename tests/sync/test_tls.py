"""The kiosk talks to a real HTTPS server (``kiosk-server serve --ssl-*``) on 127.0.0.1.

The test makes its own certificate authority and a server certificate for
127.0.0.1; the kiosk's client refuses the server without ``ca_file`` (the
certificate is checked by default) and works with it, through the config file
as staff would write it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.errors import SyncError
from kiosk.cli import main as kiosk_main
from kiosk.config import load_settings
from sync.client import ServerClient
from tests.server_process import ServerProcess, server_cmd


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A library's own CA and a certificate it signed for 127.0.0.1: (ca, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Perpustakaan Uji CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem_key(key))
    paths[2].chmod(0o600)
    return paths


@pytest.fixture
def tls_server(tmp_path, server_template):
    """The demo server behind uvicorn's own TLS: (https URL, kiosk token, CA file)."""
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    folder = tmp_path / "server"
    shutil.copytree(server_template.folder, folder)
    srv = ServerProcess(folder)
    url = f"https://127.0.0.1:{srv.port}"
    log = (folder / "server.log").open("ab")
    proc = subprocess.Popen(
        server_cmd()
        + ["serve", "--host", "127.0.0.1", "--port", str(srv.port)]
        + ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
        env=srv.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (folder / "server.log").read_text()[-3000:]
            try:
                if requests.get(url + "/api/v1/health", timeout=0.5, verify=str(ca)).ok:
                    break
            except requests.RequestException:
                assert time.monotonic() < deadline, "TLS server did not answer in time"
                time.sleep(0.1)
        yield url, server_template.tokens["k1"], ca
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_client_refuses_an_unknown_ca_and_trusts_the_configured_one(tls_server):
    url, token, ca = tls_server
    plain = ServerClient(url, token)
    try:
        with pytest.raises(SyncError, match="SSLError|CERTIFICATE_VERIFY_FAILED"):
            plain.health(timeout=5)
    finally:
        plain.close()
    trusted = ServerClient(url, token, ca_file=ca)
    try:
        assert trusted.health(timeout=5).ok
        # the ticket public key comes through the same checked session
        assert trusted.snapshot(timeout=10).ticket_public_key
    finally:
        trusted.close()


def test_ca_file_holds_when_the_environment_names_another_bundle(tls_server, monkeypatch):
    """requests lets $REQUESTS_CA_BUNDLE replace a session's ``verify``; the client's
    ``ca_file`` is given per request, so it still decides."""
    import certifi

    url, token, ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    client = ServerClient(url, token, ca_file=ca)
    try:
        assert client.health(timeout=5).ok
    finally:
        client.close()


def _kiosk_toml(folder: Path, url: str, token: str, extra: str = "") -> Path:
    cfg = folder / "kiosk.toml"
    cfg.write_text(
        f'[kiosk]\nname = "k1"\ndata_dir = "data"\n\n'
        f'[server]\nurl = "{url}"\ntoken = "{token}"\n{extra}'
    )
    return cfg


def test_kiosk_status_over_https_with_ca_file_from_config(tmp_path, tls_server, capsys):
    url, token, ca = tls_server
    kiosk_dir = tmp_path / "kiosk"
    kiosk_dir.mkdir()
    shutil.copy(ca, kiosk_dir / "library-ca.pem")

    without = _kiosk_toml(kiosk_dir, url, token)
    assert kiosk_main(["--config", str(without), "status"]) == 0
    out = capsys.readouterr().out
    assert "unreachable" in out and "CERTIFICATE_VERIFY_FAILED" in out

    # a relative ca_file is taken from the config file's folder
    with_ca = _kiosk_toml(kiosk_dir, url, token, 'ca_file = "library-ca.pem"\n')
    assert load_settings(with_ca).server.ca_file == (kiosk_dir / "library-ca.pem").resolve()
    assert kiosk_main(["--config", str(with_ca), "status"]) == 0
    out = capsys.readouterr().out
    assert f"server: {url} (reachable, version" in out
