"""A real central server (subprocess, temp SQLite file) for the sync tests.

Migrating and seeding takes several seconds of subprocesses, so it is done once
per session into a template; each test gets its own copy of the database file
(and the server's data folder, which holds the ticket key) and its own process.
"""

from __future__ import annotations

import shutil

import pytest

from tests.server_process import ServerProcess


@pytest.fixture(scope="session")
def server_template(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("server-template"))
    srv.setup_demo("k1", "k2")
    return srv


@pytest.fixture
def server(tmp_path, server_template):
    folder = tmp_path / "server"
    shutil.copytree(server_template.folder, folder)
    srv = ServerProcess(folder)
    srv.tokens = dict(server_template.tokens)
    srv.start()
    yield srv
    srv.stop()
