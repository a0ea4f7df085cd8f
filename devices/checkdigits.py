"""Check digits for the codes a library meets: EAN-13/ISBN-13, EAN-8, UPC-A/E, ISBN-10, Luhn.

A decoder or a worn label can misread one digit; the check digit catches it,
so a misread never becomes the wrong book on a patron's loan.
"""

from __future__ import annotations


def _digits(s: str, n: int) -> bool:
    return len(s) == n and s.isascii() and s.isdigit()


def gtin_check_digit(body: str) -> int:
    """Check digit for a GTIN body (EAN-8/UPC-A/EAN-13 without its last digit)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def gtin_valid(code: str) -> bool:
    """EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a correct check digit."""
    if len(code) not in (8, 12, 13, 14) or not (code.isascii() and code.isdigit()):
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def ean13_valid(code: str) -> bool:
    return _digits(code, 13) and gtin_valid(code)


def ean8_valid(code: str) -> bool:
    return _digits(code, 8) and gtin_valid(code)


def upca_valid(code: str) -> bool:
    return _digits(code, 12) and gtin_valid(code)


def upce_to_upca(code: str) -> str | None:
    """Expand an 8-digit UPC-E (number system 0 or 1) to UPC-A; ``None`` if malformed."""
    if not _digits(code, 8) or code[0] not in "01":
        return None
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def upce_valid(code: str) -> bool:
    full = upce_to_upca(code)
    return full is not None and upca_valid(full)


def isbn13_valid(code: str) -> bool:
    """An EAN-13 in the Bookland prefixes 978/979."""
    return ean13_valid(code) and code[:3] in ("978", "979")


def isbn10_valid(code: str) -> bool:
    """ISBN-10: weights 10..1, sum divisible by 11; last character may be X."""
    code = code.upper()
    if len(code) != 10 or not code[:9].isdigit() or not (code[9].isdigit() or code[9] == "X"):
        return False
    total = sum(int(c) * (10 - i) for i, c in enumerate(code[:9]))
    total += 10 if code[9] == "X" else int(code[9])
    return total % 11 == 0


def isbn10_to_13(code: str) -> str:
    """ISBN-10 → ISBN-13 (978 prefix, new check digit). Validate first."""
    body = "978" + code[:9]
    return body + str(gtin_check_digit(body))


def luhn_valid(code: str) -> bool:
    """Luhn (mod 10) as used on some library and payment cards."""
    if not code or not (code.isascii() and code.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed(code)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
