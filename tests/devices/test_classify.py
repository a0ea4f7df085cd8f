"""Code classification and check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import checkdigits as cd
from devices.base import Scan, Symbology
from devices.classify import (
    MSG_BAD_CHECK,
    MSG_UNKNOWN,
    MSG_UNREADABLE,
    MSG_WANT_CARD_GOT_ITEM,
    MSG_WANT_ITEM_GOT_CARD,
    Classifier,
    ClassifierRules,
    CodeKind,
    classify,
    expect,
)


@pytest.mark.parametrize(
    "code,kind",
    [
        ("AGT0000101", CodeKind.PATRON_CARD),
        ("agt0001", CodeKind.PATRON_CARD),
        ("STF0001", CodeKind.STAFF_CARD),
        ("B000123", CodeKind.ITEM),
        ("9786020332956", CodeKind.ITEM),
        ("4006381333931", CodeKind.ITEM),
        ("PK1.eyJlIjoxfQ.c2ln", CodeKind.EVENT_TICKET),
        ("9786020332957", CodeKind.UNREADABLE),
        ("HELLO", CodeKind.UNKNOWN),
        ("AGT12", CodeKind.UNKNOWN),
        ("B0001234", CodeKind.UNKNOWN),
        ("", CodeKind.UNREADABLE),
        ("AGT\x1b0001", CodeKind.UNREADABLE),
    ],
)
def test_default_rules(code, kind):
    assert classify(code).kind is kind


def test_isbn_and_messages():
    c = classify("9786020332956")
    assert c.ok and c.isbn13 == "9786020332956"
    assert classify("9786020332957").message == MSG_BAD_CHECK
    assert classify("HELLO").message == MSG_UNKNOWN
    assert classify(Scan("AGT0001", Symbology.UNREADABLE)).message == MSG_UNREADABLE
    assert classify("PK1.abc").code == "PK1.abc"  # tickets keep their case


def test_expect_gives_clear_mismatch_messages():
    assert expect(CodeKind.PATRON_CARD, "AGT0000101") is None
    assert expect(CodeKind.PATRON_CARD, "B000123") == MSG_WANT_CARD_GOT_ITEM
    assert expect(CodeKind.ITEM, Scan("AGT0000101")) == MSG_WANT_ITEM_GOT_CARD
    assert expect([CodeKind.EVENT_TICKET, CodeKind.PATRON_CARD], "PK1.x") is None
    msg = expect(CodeKind.ITEM, "PK1.x")
    assert msg is not None and "tiket" in msg
    assert expect(CodeKind.ITEM, "xyz") == MSG_UNKNOWN


def test_configurable_rules_isbn10_upc_luhn():
    c = Classifier(
        ClassifierRules(
            patron_patterns=(r"^\d{8}$",),
            patron_luhn=True,
            items_by_isbn10=True,
            items_by_upca=True,
        )
    )
    assert c.classify("12345674").kind is CodeKind.PATRON_CARD  # Luhn-valid
    assert c.classify("12345675").message == MSG_BAD_CHECK
    isbn = c.classify("0306406152")
    assert isbn.kind is CodeKind.ITEM and isbn.code == "9780306406157"
    assert c.classify("080442957X").kind is CodeKind.ITEM
    assert c.classify("036000291452").kind is CodeKind.ITEM
    assert c.classify("036000291453").message == MSG_BAD_CHECK


def test_check_digits():
    assert cd.ean13_valid("9780306406157") and not cd.ean13_valid("9780306406158")
    assert cd.ean8_valid("96385074") and not cd.ean8_valid("96385075")
    assert cd.upca_valid("036000291452")
    assert cd.upce_to_upca("01234565") == "012345000065" and cd.upce_valid("01234565")
    assert cd.isbn10_valid("0306406152") and cd.isbn10_valid("080442957x")
    assert not cd.isbn10_valid("0306406153")
    assert cd.luhn_valid("79927398713") and not cd.luhn_valid("79927398710")
    assert not cd.luhn_valid("") and not cd.gtin_valid("12ab")


@given(st.text(st.characters(min_codepoint=48, max_codepoint=57), min_size=12, max_size=12))
def test_any_ean13_body_gets_a_valid_check_and_single_digit_errors_are_caught(body):
    code = body + str(cd.gtin_check_digit(body))
    assert cd.ean13_valid(code)
    for i in range(13):
        wrong = code[:i] + str((int(code[i]) + 1) % 10) + code[i + 1 :]
        assert not cd.ean13_valid(wrong)


@given(st.text(max_size=80))
def test_classify_never_raises(text):
    c = classify(text)
    assert c.ok == (c.message is None)
    if not c.ok:
        assert c.message
