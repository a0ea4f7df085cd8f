"""The local store's tables, and the migrations that bring an older file up to them.

Tables are made if missing and older files are migrated at open, inside the
opening transaction, so a store never runs on a half-migrated file. Each
schema so far added columns, tables or indexes in place (schema 8: the guest
book's ``visit_marks``, made at open like any missing table); ``SCHEMA_VERSION`` is
recorded in ``meta``.
"""

from __future__ import annotations

import sqlite3

from sync.outbox import FLAGGED
from sync.snapshot_store import SNAPSHOT_INDEXES, SNAPSHOT_TABLES

SCHEMA_VERSION = 8

_OUTBOX = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    offline INTEGER NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    local_result TEXT,
    server_result TEXT,
    created_at REAL NOT NULL,
    sent_at REAL,
    server_status TEXT,
    mismatch TEXT,
    handled_at REAL,
    handled_by TEXT
);
-- Cards counted in the guest book, per counting window (Visit.window): a card
-- scanned again in the same window is welcomed again but not counted again.
-- Written with the visit's outbox row (sync/effects.py); old windows are pruned
-- (sync/visit_marks.py).
CREATE TABLE IF NOT EXISTS visit_marks (
    card TEXT NOT NULL,
    window TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (card, window)
) WITHOUT ROWID;
-- A transaction sent for an online decision whose result is not committed yet.
-- Committed (fsync) before the request goes out, deleted in the same SQLite
-- transaction as the outbox row: one left behind means the kiosk stopped while
-- the server may have applied it and before the patron saw any result.
CREATE TABLE IF NOT EXISTS intents (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


def create_tables(db: sqlite3.Connection) -> None:
    """Make the outbox, intent, visit-mark and snapshot tables that are missing (outside a
    transaction: ``executescript`` commits first)."""
    db.executescript(_OUTBOX)
    for table, cols in SNAPSHOT_TABLES.items():
        db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
    for stmt in SNAPSHOT_INDEXES:
        db.execute(stmt)


def migrate(db: sqlite3.Connection) -> None:
    """Bring the outbox of any earlier schema up to ``SCHEMA_VERSION`` (inside the caller's
    transaction); a store already there is left as it is."""
    cols = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
    for col, kind in (
        ("server_status", "TEXT"),  # schema 2
        ("mismatch", "TEXT"),
        ("handled_at", "REAL"),  # schema 6
        ("handled_by", "TEXT"),
    ):
        if col not in cols:
            db.execute(f"ALTER TABLE outbox ADD COLUMN {col} {kind}")
    if db.execute("SELECT 1 FROM meta WHERE key='unsent_from'").fetchone() is None:
        # A new store, or one from schema version 2 (with the index on state,
        # still there to find the unsent rows once before it goes).
        low = db.execute(
            "SELECT MIN(seq) FROM outbox WHERE state IN ('pending','in_flight')"
        ).fetchone()[0]
        if low is None:
            low = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]
        db.execute("INSERT INTO meta(key, value) VALUES ('unsent_from', ?)", (str(low),))
    pcols = {r[1] for r in db.execute("PRAGMA table_info(patrons)")}
    if "pin_required" not in pcols:
        # Schema 7: card numbers leave loans, holds and registrations (the server
        # now sends card tags). Wipe the old ones and start the snapshot over.
        db.execute("ALTER TABLE patrons ADD COLUMN pin_required INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE patrons SET pin_required=1, pin_hash=NULL WHERE pin_hash IS NOT NULL")
        db.execute("UPDATE items SET on_loan_to=NULL, hold_for=NULL")
        db.execute("UPDATE registrations SET card=NULL")
        db.execute("DELETE FROM meta WHERE key='snapshot_cursor'")
    db.execute("DROP INDEX IF EXISTS outbox_state")
    # Schema 6 (schema 5's outbox_flagged counted handled mismatches). A store with
    # years of rows builds it once, here, at the first open after the upgrade.
    db.execute("DROP INDEX IF EXISTS outbox_flagged")
    db.execute(f"CREATE INDEX IF NOT EXISTS outbox_follow_up ON outbox(seq) WHERE {FLAGGED}")
    db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
