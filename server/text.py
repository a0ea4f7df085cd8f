"""Text the databases cannot store: NUL characters and lone UTF-16 surrogates."""

from __future__ import annotations


def storable(value: str | None) -> bool:
    """False for text PostgreSQL or SQLite would reject (NUL, unpaired surrogates)."""
    if value is None:
        return True
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
