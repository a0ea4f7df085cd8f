"""Array parameters sent as literal text (server.pgwrite.array_literal) read back on a
real PostgreSQL server as the same values: quotes, backslashes, commas, braces, the
word NULL, empty strings and non-ASCII text, integers with gaps, aware and naive
times. The per-batch reads bind them through ``among`` and still find every row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from server.pgwrite import array_literal
from server.statements import among
from tests.server.conftest import PG_ENV

pytestmark = pytest.mark.postgres

AWKWARD = [
    'say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", "  spaced  ", "Bu Ani — ü",
    "\\\"", "'single'", "semi;colon",
]  # fmt: skip


@pytest.fixture
def engine() -> Iterator[Engine]:
    url = make_url(os.environ[PG_ENV])
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_text_integers_and_times_read_back_as_sent(engine: Engine) -> None:
    naive = datetime(2026, 11, 30, 10, 15, 30, 123456)
    aware = datetime(2026, 11, 30, 17, 15, 30, 123456, tzinfo=timezone(timedelta(hours=7)))
    with engine.connect() as conn:
        back = conn.execute(
            text(
                "SELECT CAST(:t AS VARCHAR[]), CAST(:i AS INTEGER[]), CAST(:ts AS TIMESTAMP[]),"
                " CAST(:f AS FLOAT[]), CAST(:e AS INTEGER[])"
            ),
            {
                "t": array_literal([*AWKWARD, None]),
                "i": array_literal([3, -7, None, 2**31 - 1]),
                "ts": array_literal([naive, aware, None]),
                "f": array_literal([1.5, None, 1e-7]),
                "e": array_literal([]),
            },
        ).one()
    assert back[0] == [*AWKWARD, None]
    assert back[1] == [3, -7, None, 2**31 - 1]
    # an aware time is written as naive UTC, as the timestamp columns hold it
    assert back[2] == [naive, aware.astimezone(UTC).replace(tzinfo=None), None]
    assert back[3] == [1.5, None, 1e-7]
    assert back[4] == []


def test_among_finds_awkward_keys_and_nothing_else(engine: Engine) -> None:
    meta = MetaData()
    t = Table("arr_probe", meta, Column("id", Integer, primary_key=True),
              Column("code", String(64), index=True), prefixes=["TEMPORARY"])  # fmt: skip
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(t.insert(), [{"id": n, "code": c} for n, c in enumerate(AWKWARD, 1)])
        conn.execute(t.insert(), {"id": 99, "code": "other"})
        by_code = select(t.c.code).where(among(t.c.code, "keys", True))
        found = {r[0] for r in conn.execute(by_code, {"keys": AWKWARD})}
        assert found == set(AWKWARD)
        by_id = select(t.c.id).where(among(t.c.id, "ids", True))
        assert {r[0] for r in conn.execute(by_id, {"ids": [1, 99, 1000]})} == {1, 99}
        assert list(conn.execute(by_code, {"keys": []})) == []


def test_values_with_no_literal_are_refused() -> None:
    with pytest.raises(TypeError, match="bytes"):
        array_literal([b"raw"])
