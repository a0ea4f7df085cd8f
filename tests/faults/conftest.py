"""The same per-test real server as tests/sync (copied from a seeded template)."""

from tests.sync.conftest import server, server_template  # noqa: F401
