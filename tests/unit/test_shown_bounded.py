"""A value a report quotes from a document is cut: a 300,000-character subject id makes a
check line of a bounded length, not one as long as the document (found in review)."""

from __future__ import annotations

from tradevc.vc.jsontext import shown


def test_a_long_string_is_cut_and_a_short_one_kept_whole() -> None:
    assert shown("did:web:mill.example") == "'did:web:mill.example'"
    long = shown("x" * 300_000)
    assert len(long) < 100 and long.startswith("'xxx") and long.endswith("...")
    assert len(shown("y" * 500, limit=200)) < 210


def test_other_values_are_cut_as_before() -> None:
    assert shown(None) == "null" and shown(True) == "true"
    assert len(shown(list(range(10_000)))) == 80
