"""Statements a batch runs, built once per process, and the key lists they take.

Every write of a batch reads patrons, items, loans and stored results by lists of
keys. Building a select and generating its cache key on every call costs more
Python than executing it, so those statements are built when their module is
imported, once for each backend (:func:`per_backend`), and take their key list as
one bound parameter (:func:`among`). The fixed cost of a write counts most for a
patron's single online checkout: ``server.checkout_p99_ms`` and
``server.single_tx_per_s`` of ``make bench`` show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, any_, bindparam

from server.pgwrite import ArrayLiteral

_T = TypeVar("_T")


def among(column: Any, name: str, postgres: bool) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``name``.

    On PostgreSQL the list goes as one array parameter (``= ANY``), in its literal
    text (:class:`~server.pgwrite.ArrayLiteral`): an expanding IN would be rendered
    again with one parameter per value at every execution, and PostgreSQL would
    parse and plan a new text for every list length. SQLite has no arrays: an
    expanding IN there, run in-process.
    """
    if postgres:
        bound = bindparam(name, type_=ArrayLiteral(column.type))
        return cast(ColumnElement[bool], column == any_(bound))
    return cast(ColumnElement[bool], column.in_(bindparam(name, expanding=True)))


def per_backend(build: Callable[[bool], _T]) -> tuple[_T, _T]:
    """A statement built once for SQLite (``[False]``) and once for PostgreSQL
    (``[True]``): index the pair with the batch's ``postgres`` flag. See :func:`among`."""
    return build(False), build(True)


def chunks(values: list, size: int = 500) -> Iterable[list]:
    """``values`` in lists of ``size``: one key list per query stays well under the
    database's limit on parameters, whatever a batch brings."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
