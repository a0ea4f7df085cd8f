"""A Babel extractor for Kivy .kv files: ``app.tr("...")`` and ``app.tr_other("...")``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

_CALL = re.compile(r"""\b(tr|tr_other|N_)\(\s*(["'])((?:\\.|(?!\2).)*)\2""")


def extract_kv(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line, function, msgid, comments) for each translatable string in a .kv file."""
    for lineno, raw in enumerate(fileobj, start=1):
        line = raw.decode("utf-8")
        for m in _CALL.finditer(line):
            text = m.group(3).encode("utf-8").decode("unicode_escape").encode("latin-1")
            yield lineno, m.group(1), text.decode("utf-8"), []
