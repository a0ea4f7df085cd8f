"""Staff passwords: the lighter argon2 setting, and older hashes brought up to it."""

from __future__ import annotations

from sqlalchemy import select, update

from server.access import StaffAuth
from server.admin import add_staff
from server.auth import hash_secret, password_needs_rehash
from server.models import StaffUser
from server.service import Server


def _stored(server: Server, name: str) -> str:
    with server.db.read() as s:
        return str(
            s.execute(select(StaffUser.password_hash).where(StaffUser.name == name)).scalar_one()
        )


def test_new_staff_passwords_use_the_staff_setting(server: Server) -> None:
    add_staff(server.db, "ani", "rahasia-ani-1")
    stored = _stored(server, "ani")
    assert "m=19456,t=2,p=1" in stored and not password_needs_rehash(stored)


def test_an_older_hash_is_replaced_at_the_next_good_login_only(server: Server) -> None:
    add_staff(server.db, "budi", "rahasia-budi-1")
    heavy = hash_secret("rahasia-budi-1")  # the default setting, as before
    with server.db.write() as (s, _v):
        s.execute(update(StaffUser).where(StaffUser.name == "budi").values(password_hash=heavy))
    auth = StaffAuth(server.db, server.settings)
    try:
        auth.login("budi", "wrong password", "127.0.0.9")
    except Exception:  # noqa: BLE001 - refused, as it must be
        pass
    assert _stored(server, "budi") == heavy  # a wrong password changes nothing
    session = auth.login("budi", "rahasia-budi-1", "127.0.0.9")
    assert session.token
    after = _stored(server, "budi")
    assert after != heavy and not password_needs_rehash(after)
    auth.login("budi", "rahasia-budi-1", "127.0.0.9")  # and the new hash works


def test_the_server_computes_a_few_password_hashes_a_second_at_most(server: Server) -> None:
    from server.access import LoginRefused

    now = [0.0]
    auth = StaffAuth(server.db, server.settings, monotonic=lambda: now[0])
    answers = []
    for i in range(6):  # six different addresses and names: no per-name or per-address limit
        try:
            auth.login(f"tamu{i}", "tebakan", f"10.0.0.{i}")
        except LoginRefused as exc:
            answers.append(exc.code)
    assert answers == ["bad_credentials"] * 4 + ["logins_busy"] * 2
    now[0] += 1.0  # two more hashes a second later
    for i in range(3):
        try:
            auth.login(f"tamu{i}", "tebakan", f"10.0.1.{i}")
        except LoginRefused as exc:
            answers.append(exc.code)
    assert answers[6:] == ["bad_credentials", "bad_credentials", "logins_busy"]
