"""Property tests: any receipt text fits the paper; any byte stream parses without raising."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printer.decode import EscposParser
from devices.printer.escpos_render import receipt_bytes
from devices.printer.layout import printable
from devices.receipt import Columns, Receipt, Text

texts = st.text(max_size=120)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(texts.map(Text), st.tuples(texts, texts).map(lambda t: Columns(*t))), max_size=6
    ),
    st.sampled_from([58, 80]),
)
def test_any_text_renders_within_the_paper_width(blocks, paper):
    data = receipt_bytes(Receipt(list(blocks)), paper_mm=paper)
    parser = EscposParser()
    parser.feed(data)
    slip = parser.close()
    width = 32 if paper == 58 else 48
    assert all(len(line) <= width for line in slip.lines)
    assert slip.cuts == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_on_random_bytes(blob):
    parser = EscposParser(on_status=lambda n: None)
    for i in range(0, len(blob), 61):
        parser.feed(blob[i : i + 61])
    parser.close()


@given(st.text(max_size=60))
def test_printable_is_cp1252_safe(text):
    out = printable(text)
    out.encode("cp1252")
    assert "\n" not in out or "\n" in text
