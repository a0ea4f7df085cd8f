"""core.tickets: compact Ed25519 tickets verified with the public key only."""

from __future__ import annotations

import pytest

from core.tickets import (
    TicketError,
    generate_keypair,
    load_private_key,
    parse_ticket,
    read_ticket,
    sign_ticket,
    verify_ticket,
)


def test_sign_and_verify_round_trip() -> None:
    pem, public = generate_keypair()
    key = load_private_key(pem)
    payload = sign_ticket(key, 7, "AB12CD34EF")
    assert payload.startswith("PK1.7.AB12CD34EF.") and len(payload) < 120
    ticket = verify_ticket(public, payload)
    assert (ticket.event_id, ticket.code) == (7, "AB12CD34EF")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.replace("PK1.7.", "PK1.8.", 1),
        lambda p: p.replace("AB12CD34EF", "AB12CD34EG"),
        lambda p: p[:-2] + ("AA" if not p.endswith("AA") else "BB"),
    ],
)
def test_altered_ticket_is_rejected(mutate) -> None:
    pem, public = generate_keypair()
    payload = sign_ticket(load_private_key(pem), 7, "AB12CD34EF")
    with pytest.raises(TicketError):
        verify_ticket(public, mutate(payload))


def test_ticket_from_another_key_is_forged() -> None:
    pem, _ = generate_keypair()
    _, other_public = generate_keypair()
    payload = sign_ticket(load_private_key(pem), 1, "CODE1234")
    with pytest.raises(TicketError, match="forged"):
        verify_ticket(other_public, payload)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "PK1",
        "PK2.1.CODE.sig",
        "PK1.x.CODE.AAAA",
        "PK1.².CODE.AAAA",
        "PK1.1.code.AAAA",
        "PK1.1.CODE.!!",
    ],  # fmt: skip
)
def test_malformed_tickets_have_clear_errors(text: str) -> None:
    with pytest.raises(TicketError):
        parse_ticket(text)


def test_unsigned_ticket_with_a_non_ascii_digit_is_malformed() -> None:
    assert read_ticket(None, "PKU.3.CODE1234").event_id == 3
    with pytest.raises(TicketError, match="not a number"):
        read_ticket(None, "PKU.³.CODE1234")  # a digit to str.isdigit, not to int


def test_bad_private_key() -> None:
    with pytest.raises(TicketError, match="cannot read"):
        load_private_key(b"not a key")
