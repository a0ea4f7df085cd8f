"""The MariaDB the ILS tests run on is real and behaves as SLiMS relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.mariadb


def test_mariadb_is_real_and_myisam_ignores_rollback(mariadb_url: str) -> None:
    engine = create_engine(mariadb_url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT VERSION()")).scalar_one()
        assert "MariaDB" in version
        conn.execute(text("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=MyISAM"))
        conn.commit()
        # MyISAM has no transactions: a rolled-back insert stays, which is why the
        # connectors make every write idempotent instead of relying on ROLLBACK
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.rollback()
        assert conn.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 1
    engine.dispose()
