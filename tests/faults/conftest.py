"""A real central server (subprocess, temp SQLite file) for the sync tests."""

from __future__ import annotations

import pytest

from tests.server_process import ServerProcess


@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(tmp_path / "server")
    srv.setup_demo("k1", "k2")
    srv.start()
    yield srv
    srv.stop()
