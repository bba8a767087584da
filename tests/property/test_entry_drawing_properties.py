"""The supply-path drawing never breaks on what the documents say: any value in any field of a
path's credentials, and any text in the names, heat numbers, ids and the line's declaration,
gives a text drawing whose lines fit 100 terminal columns and hold no hidden character (a
terminal escape, a bidirectional override, a line break), and an SVG that is well-formed XML
with no script and no reference outside itself."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from property.test_supply_walk_properties import EVENT, JSON, MTR, PATHS, event, mtr, put, verified
from tradevc.verifier.entry.drawing import columns, draw_svg, draw_text
from tradevc.verifier.entry.facts import Evidence
from tradevc.verifier.entry.report import Decision, Finding, LineReport
from tradevc.verifier.supply import walk_supply_path

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}
# XML 1.0 cannot hold U+FFFE and U+FFFF (unassigned, Cn) even escaped; no document field is read
# as anything but text, and a browser's HTML parser shows them: they are left out here
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cn",)), max_size=40)
# a credential whose text holds a lone surrogate cannot be digested (RFC 8785 refuses it), so
# none is pinned on a path; the declaration's text may hold one
TEXT = st.text(st.characters(blacklist_categories=("Cn", "Cs")), max_size=40)
NAMES = [("credentialSubject", "manufacturer"), ("credentialSubject", "organization")]


def line_report(description: str, declared: str, evidence_in: str) -> LineReport:
    finding = Finding("steel.melt-pour.matches-mill", Decision.REJECT, f"declared {declared}", "19 CFR 141.89",
                      (Evidence(None, "/lines/0/countryOfMeltAndPour", declared),
                       Evidence(evidence_in, "/credentialSubject/product/0/originalCountryOfMeltAndPour", "CN")), 1)
    return LineReport(1, "7304.19.1020", description, "1000 KGM", declared, declared, None, [finding])


def check(path: dict[str, Any], line: LineReport) -> None:
    drawing = draw_text(path, line)
    for text in drawing:
        assert columns(text) <= 100, text
        assert not {unicodedata.category(c) for c in text} & HIDDEN, text
    svg = draw_svg(path, line, ident="line1")
    tree = ET.fromstring(svg)
    for element in tree.iter():
        assert element.tag.rsplit("}", 1)[-1] not in ("script", "foreignObject", "image", "a", "use")
        for name, value in element.attrib.items():
            assert "href" not in name and not name.startswith("on")
            assert "url(" not in value or value in ("url(#line1-ok)", "url(#line1-bad)")


@SETTINGS
@given(where=st.sampled_from(PATHS), value=JSON, upstream=st.booleans())
def test_any_value_in_any_field_draws(where: tuple[Any, ...], value: Any, upstream: bool) -> None:
    first = mtr()
    second = event(first)
    put(second if upstream else first, where, value)
    path = walk_supply_path([second], [first], verified).to_dict()
    check(path, line_report("pipe", "MX", MTR))


@SETTINGS
@given(name=TEXT, heat=TEXT, country=TEXT, description=ANY_TEXT, declared=ANY_TEXT, which=st.sampled_from(NAMES))
def test_any_text_draws_escaped(name: str, heat: str, country: str, description: str, declared: str,
                                which: tuple[str, str]) -> None:
    first = mtr()
    first["credentialSubject"]["product"][0].update(heatNumber=heat, originalCountryOfMeltAndPour=country)
    first["credentialSubject"]["manufacturer"] = {"type": ["Organization"], "name": name}
    second = event(first)  # pinned to the report as changed
    second["credentialSubject"]["consumedProducts"][0]["heatNumber"] = heat
    put(second, which, {"type": ["Organization"], "name": name})
    path = walk_supply_path([second], [first], verified).to_dict()
    check(path, line_report(description, declared, MTR))
    check(path, line_report(description, declared, EVENT))
