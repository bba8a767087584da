"""The strict JSON reader's fast path (orjson, written back and compared without white space)
against the standard library with a hook that refuses duplicates: the same value, or a
refusal, for hypothesis-drawn texts with duplicate members, names that differ only in spaces,
and white space of every kind between the tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradevc.vc.errors import ParsingError
from tradevc.vc.jsontext import loads

pytestmark = pytest.mark.hypothesis

NAMES = st.sampled_from(["a", "b", "a b", "ab", " ab", "x, y", "k: v", "é", "id"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1),
                    st.sampled_from(["", "a b", "x, y: z", "é", "\u2028"]))
WHITE = st.sampled_from(["", " ", "  ", "\n", "\t", "\r\n", "\n    "])


@st.composite
def texts(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text whose objects may repeat a name, with drawn white space around the tokens."""
    def w() -> str:
        return draw(WHITE)
    kind = draw(st.sampled_from(["scalar", "array", "object"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return json.dumps(draw(SCALARS), ensure_ascii=draw(st.booleans()))
    if kind == "array":
        items = [draw(texts(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
        return "[" + w() + ("," + w()).join(items) + w() + "]"
    members = [f"{json.dumps(draw(NAMES), ensure_ascii=False)}{w()}:{w()}{draw(texts(depth + 1))}"
               for _ in range(draw(st.integers(0, 4)))]
    return "{" + w() + ("," + w()).join(members) + w() + "}"


def _strict(text: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({name for name, _ in pairs}) != len(pairs):
            raise ValueError("duplicate")
        return dict(pairs)
    return json.loads(text, object_pairs_hook=no_duplicates)


@settings(max_examples=400)
@given(texts())
def test_the_reader_refuses_exactly_the_texts_with_a_duplicate_member(text: str) -> None:
    try:
        expected = _strict(text)
    except ValueError:
        with pytest.raises(ParsingError, match="duplicate"):
            loads(text.encode(), limits=None)
        return
    assert loads(text.encode(), limits=None) == expected
