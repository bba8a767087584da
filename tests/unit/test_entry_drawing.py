"""The drawing of a line's supply path in the entry report (verifier/entry/drawing.py), over
real signed credentials: a heat melted and poured in CN at a melt shop, made into pipe at a
Mexican pipe works (a transformation event), restated by the pipe mill's mill test report that
the line references. The text drawing in ``EntryReport.summary()`` and ``vc-verify entry``, the
inline SVG in ``EntryReport.to_html()``: order from melt to entry, the contradicting node, the
breaks where they happen, and hostile values escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.entries import licence
from support.supply_world import EVENT_ID, HEAT, MELT_ID, PIPE_ID, PIPE_WORKS, melt_report, two_step_world
from tradevc.verifier.cli import cli
from tradevc.verifier.entry.drawing import draw_svg, draw_text, layout

FACILITY = "Tubos del Golfo S.A. de C.V."
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def transshipped() -> Any:
    """Declared as melted and poured in MX; the melt shop's report says CN."""
    world = two_step_world(declared="MX")
    return world, world.run()


def drawing_of(report: Any, line: int = 1) -> list[str]:
    return draw_text(report.supply_paths[str(line)], report.line(line))


def box_lines(drawing: list[str], marker: str) -> list[str]:
    """The lines of the box whose header holds ``marker``, up to its arrow."""
    start = next(i for i, text in enumerate(drawing) if marker in text and text.lstrip().startswith(("┌", "╔")))
    end = next(i for i in range(start, len(drawing)) if drawing[i].lstrip().startswith(("└", "╚")))
    return drawing[start:end + 1]


# -- the text drawing ------------------------------------------------------------------------------


def test_the_path_is_drawn_from_melt_to_the_entry_line(transshipped: Any) -> None:
    _, report = transshipped
    drawing = drawing_of(report)
    headers = [text.strip() for text in drawing if text.lstrip().startswith(("┌", "╔"))]
    assert headers[0].startswith("┌─ [1] MELT AND POUR · mill test report · verified")
    assert headers[1].startswith("┌─ [2] TRANSFORMATION")
    assert headers[2].startswith("┌─ [3] mill test report · verified · referenced by the line")
    assert headers[-1] == "╔═ LINE 1 · REJECT"
    melt = box_lines(drawing, "[1] MELT AND POUR")
    assert "urn:uuid:melt-1" in melt[1]
    assert "Baotou Steel Melt Shop · CN" in melt[2]
    heat = next(text for text in melt if text.strip("│ ").startswith("heat"))
    assert f"{HEAT} · melted and poured in CN · 100,000 kg" in heat
    assert melt[-1].strip() == "└─┬─▶ to [2]"
    event = box_lines(drawing, "[2] TRANSFORMATION")
    assert any(f"facility {FACILITY} · MX" in text for text in event)
    assert any("date     2026-02-18" in text for text in event)
    assert any(f"in       heat {HEAT} · 100,000 kg from [1]" in text for text in event)
    assert any("out      lot LOT-0 · 98,000 kg · HS 730419" in text for text in event)
    assert event[-1].strip() == "└─┬─▶ to [3]"
    pipe = box_lines(drawing, "[3] mill test report")
    assert any("restated as melted and poured in CN · 98,000 kg · lot LOT-0 from [2]" in text for text in pipe)
    assert pipe[-1].strip().endswith("to LINE 1")
    line = box_lines(drawing, "LINE 1")
    assert any("declared origin MX · melt and pour MX" in text for text in line)
    assert all(len(text) <= 100 for text in drawing), max(drawing, key=len)


def test_the_node_that_contradicts_the_declaration_is_marked(transshipped: Any) -> None:
    _, report = transshipped
    drawing = drawing_of(report)
    marked = [text for text in drawing if "CONTRADICTS THE DECLARATION" in text]
    assert len(marked) == 1 and "[1] MELT AND POUR" in marked[0]
    melt = box_lines(drawing, "[1] MELT AND POUR")
    heat = next(text for text in melt if HEAT in text and "melted and poured in CN" in text)
    assert heat.endswith("<< REJECT: declared MX")
    assert any("<< REJECT [steel.melt-pour.matches-mill]" in text for text in melt)
    for other in ("[2] TRANSFORMATION", "[3] mill test report"):
        assert not any("<<" in text for text in box_lines(drawing, other))


def test_an_honest_declaration_marks_nothing() -> None:
    world = two_step_world(declared="CN")
    world.replace("urn:uuid:sima-1", licence(day=world.day, melt="CN"))
    report = world.run()
    assert report.line(1).decision.value != "REJECT", report.summary()
    drawing = drawing_of(report)
    assert not any("<<" in text or "!!" in text for text in drawing)
    assert any("melted and poured in CN" in text for text in drawing)


def test_summary_draws_the_path_after_the_lines_findings(transshipped: Any) -> None:
    _, report = transshipped
    text = report.summary().splitlines()
    finding = next(i for i, t in enumerate(text) if "[steel.melt-pour.matches-mill]" in t and t.startswith("  line 1"))
    drawn = text.index("  supply path of line 1, from melt and pour to the entry (5 credentials):")
    assert drawn > finding
    assert text[drawn + 1:drawn + 1 + len(drawing_of(report))] == drawing_of(report)[1:]
    assert "supply path" not in report.summary(supply_paths=False).split("decision: REJECT", 1)[1].replace(
        "supply path:", "")


def test_lines_sharing_a_path_refer_to_the_first_drawing() -> None:
    world = two_step_world(declared="MX")
    # two lines of 40 t from the same pipe lot and certification: the same path and marks
    first = dict(world.line, quantity=40000, credentials=[PIPE_ID, "urn:uuid:coo-1"], simaLicenseNumber=None)
    world.entry = dict(world.entry, lines=[first, dict(first, line=2)])
    report = world.run()
    assert [f.rule for f in report.line(1).findings] == [f.rule for f in report.line(2).findings]
    text = report.summary()
    assert text.count("supply path of line 1, from melt and pour") == 1
    assert "  supply path of line 2: the same as line 1's, drawn above" in text
    assert text.count("┌─ [1] MELT AND POUR") == 1
    page = report.to_html()
    assert page.count("<svg") == 1 and "Supply path: the same as line 1's, drawn above." in page


def test_lines_sharing_a_path_but_not_its_marks_are_each_drawn() -> None:
    world = two_step_world(declared="MX")
    second = dict(world.line, line=2, quantity=1000, countryOfMeltAndPour="CN")  # as the melt shop says
    world.entry = dict(world.entry, lines=[world.line, second])
    report = world.run()
    assert report.supply_paths["1"] == report.supply_paths["2"]
    text = report.summary()
    assert "the same as line 1's" not in text
    first, other = drawing_of(report, 1), drawing_of(report, 2)
    assert "CONTRADICTS THE DECLARATION" in box_lines(first, "[1] MELT AND POUR")[0]
    # line 2 declares CN as the melt shop says: its melt box does not contradict the declaration,
    # but still marks the licence, which says MX against the heats
    melt_box = "".join(box_lines(other, "[1] MELT AND POUR"))
    assert "CONTRADICTS THE DECLARATION" not in melt_box
    assert "[sima.licence.matches]" in melt_box and "[steel.melt-pour.matches-mill]" not in melt_box
    assert report.to_html().count("<svg") == 2


# -- breaks ---------------------------------------------------------------------------------------


def test_a_missing_link_is_drawn_as_a_credential_not_held() -> None:
    world = two_step_world()
    world.drop(MELT_ID)
    report = world.run()
    drawing = drawing_of(report)
    missing = box_lines(drawing, "NOT HELD")
    assert missing[0].strip() == "┌─ [1] credential derived from · NOT HELD by the verifier"
    assert "urn:uuid:melt-1" in missing[1]
    arrow = "\n".join(missing[-1:] + drawing[drawing.index(missing[-1]) + 1:drawing.index(missing[-1]) + 3])
    assert "to [2]" in arrow and "!! BREAK on the arrow to [2]: MISSING_LINK: urn:uuid:event-1 derives from" in arrow
    assert "[2] TRANSFORMATION" in box_lines(drawing, "[2] TRANSFORMATION")[0]
    assert not any("MELT AND POUR" in text for text in drawing)  # no heat's origin is known
    svg = draw_svg(report.supply_paths["1"], report.line(1))
    tree = ET.fromstring(svg)
    assert [g.get("class") for g in tree.iter(f"{SVG}g") if g.get("data-key") == MELT_ID] == ["box broken missing"]
    assert [p.get("class") for p in tree.iter(f"{SVG}path") if p.get("class", "").startswith("edge")].count(
        "edge broken") == 1


def test_a_digest_mismatch_is_drawn_on_its_arrow() -> None:
    world = two_step_world()
    # the melt shop signs another report under the same id, saying MX: its signature holds,
    # the digest the pipe works pinned does not
    world.replace(MELT_ID, melt_report(day=world.day, melt_country="MX", name="Baotou Steel Melt Shop"))
    report = world.run()
    drawing = drawing_of(report)
    first = box_lines(drawing, "[1]")
    assert "NOT THE CREDENTIAL LINKED (digest)" in first[0]
    after = drawing[drawing.index(first[-1]):drawing.index(first[-1]) + 3]
    assert first[-1].strip() == "└─┬─▶ to [2]"
    assert any("!! BREAK on the arrow to [2]: DIGEST_MISMATCH: urn:uuid:melt-1 as held does not have the digest"
               in text for text in after)
    # the substitute is not taken as the heat's origin
    assert any(f"{HEAT} · says melted and poured in MX, not taken" in text for text in first)


def test_an_unverifiable_node_and_a_mass_imbalance_are_drawn_in_their_box() -> None:
    world = two_step_world(restated_kg=150000)  # the pipe mill restates more than the pipe works made
    world.policy["trustedIssuers"] = [t for t in world.policy["trustedIssuers"] if t["did"] != PIPE_WORKS.did]
    report = world.run()
    drawing = drawing_of(report)
    event = " ".join(text.strip("│ ") for text in box_lines(drawing, "TRANSFORMATION"))
    assert "NOT VERIFIED" in box_lines(drawing, "TRANSFORMATION")[0]
    assert f"!! BREAK UNVERIFIABLE_NODE: {EVENT_ID} is not verified" in event
    assert "!! BREAK MASS_IMBALANCE: lot LOT-0 of urn:uuid:event-1 weighs 98000 kg, but 150000 kg" in event
    pipe = box_lines(drawing, "[3] mill test report")
    assert not any("!!" in text for text in pipe)


# -- hostile values ---------------------------------------------------------------------------------


def test_hostile_names_are_escaped_in_text_and_html() -> None:
    hostile = "<script>alert(1)</script>\x1b[2J\u202eWorks"
    report = two_step_world(facility=hostile, melt_shop='Melt "shop" & <b>bold</b>').run()
    text = report.summary()
    assert "\x1b" not in text and "\u202e" not in text
    assert "facility <script>alert(1)</script>\\u001b[2J\\u202eWorks · MX" in text
    page = report.to_html()
    assert "<script" not in page and "\x1b" not in page and "\u202e" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\u001b[2J\\u202eWorks" in page
    svg = draw_svg(report.supply_paths["1"], report.line(1))
    tree = ET.fromstring(svg)  # well-formed: every value escaped
    texts = ["".join(t.itertext()) for t in tree.iter(f"{SVG}text")]
    assert any("<script>alert(1)</script>\\u001b[2J\\u202eWorks" in t for t in texts)
    assert any('Melt "shop" & <b>bold</b>' in t for t in texts)


def test_the_svg_is_self_contained(transshipped: Any) -> None:
    _, report = transshipped
    svg = draw_svg(report.supply_paths["1"], report.line(1), ident="line1")
    tree = ET.fromstring(svg)
    assert not list(tree.iter(f"{SVG}script")) and not list(tree.iter(f"{SVG}foreignObject"))
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert "href" not in name and not name.startswith("on"), (name, value)
            assert "url(" not in value or value in ("url(#line1-ok)", "url(#line1-bad)"), value
    boxes = {g.get("data-key"): g for g in tree.iter(f"{SVG}g")}
    assert "contradicts" in (boxes[MELT_ID].get("class") or "")
    assert "contradicts" not in (boxes[EVENT_ID].get("class") or "")
    assert any("melted and poured in CN" in "".join(t.itertext()) for t in boxes[MELT_ID].iter(f"{SVG}text"))
    assert any(FACILITY in "".join(t.itertext()) for t in boxes[EVENT_ID].iter(f"{SVG}text"))
    # melt at the top, the entry line at the bottom
    top = {key: float(g.find(f"{SVG}rect").get("y")) for key, g in boxes.items()}  # type: ignore[union-attr]
    assert top[MELT_ID] < top[EVENT_ID] < top[PIPE_ID] < top["#line"]


def test_the_drawing_reads_the_reports_json(transshipped: Any) -> None:
    """The path as the JSON report gives it draws the same as the report's own."""
    _, report = transshipped
    paths = json.loads(report.to_json())["supplyPaths"]
    assert draw_text(paths["1"], report.line(1)) == drawing_of(report)
    assert [b.key for b in layout(paths["1"], report.line(1))] == [MELT_ID, EVENT_ID, PIPE_ID, "urn:uuid:coo-1",
                                                                 "urn:uuid:sima-1", "#line"]


# -- vc-verify entry ------------------------------------------------------------------------------------


def test_vc_verify_entry_prints_the_path_unless_told_not_to(transshipped: Any, tmp_path: Path) -> None:
    world, _ = transshipped
    args = world.cli_args(tmp_path)
    shown = CliRunner().invoke(cli, ["entry", *args], catch_exceptions=False)
    assert shown.exit_code == 1 and "Traceback" not in shown.output
    assert "supply path of line 1, from melt and pour to the entry" in shown.output
    assert "┌─ [1] MELT AND POUR · mill test report · verified  << CONTRADICTS THE DECLARATION" in shown.output
    hidden = CliRunner().invoke(cli, ["entry", *args, "--no-path"], catch_exceptions=False)
    assert hidden.exit_code == 1 and "MELT AND POUR" not in hidden.output
    assert "[steel.melt-pour.matches-mill]" in hidden.output


def test_piped_to_a_terminal_that_cannot_show_box_characters(transshipped: Any, tmp_path: Path) -> None:
    world, _ = transshipped
    env = dict(os.environ, PYTHONIOENCODING="latin-1")
    done = subprocess.run([sys.executable, "-m", "tradevc.verifier", "entry", *world.cli_args(tmp_path)],
                          capture_output=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr.decode("latin-1")
    assert b"Traceback" not in done.stderr
    out = done.stdout.decode("latin-1")
    assert "+- [1] MELT AND POUR" in out and f"heat     {HEAT} · melted and poured in CN" in out
    assert "+-+-> to [2]" in out


def test_a_link_beyond_the_depth_limit_is_drawn_as_not_followed(transshipped: Any) -> None:
    from tradevc.verifier.supply import walk_supply_path

    world, report = transshipped
    by_id = {c["id"]: c for c in world.credentials if isinstance(c, dict)}
    verifier = world.verifier()
    path = walk_supply_path([by_id[PIPE_ID]], [by_id[EVENT_ID], by_id[MELT_ID]], verifier.verify_credential,
                            max_depth=1)
    drawing = draw_text(path.to_dict(), report.line(1))
    first = box_lines(drawing, "[1]")
    assert first[0].strip() == "┌─ [1] credential derived from · NOT FOLLOWED (depth limit)"
    after = " ".join(drawing[drawing.index(first[-1]):drawing.index(first[-1]) + 3])
    assert "!! BREAK on the arrow to [2]: TOO_DEEP: urn:uuid:event-1 links to urn:uuid:melt-1 beyond" in after
    assert "[2] TRANSFORMATION" in box_lines(drawing, "[2]")[0]


def test_lines_with_different_paths_each_get_a_drawing_with_their_own_ids() -> None:
    world = two_step_world(declared="MX")
    second = dict(world.line, line=2, quantity=1000, credentials=[PIPE_ID], preference=None,
                  simaLicenseNumber=None)
    world.entry = dict(world.entry, lines=[world.line, second])
    report = world.run()
    text = report.summary()
    assert "supply path of line 1, from melt and pour" in text and "supply path of line 2, from melt and pour" in text
    page = report.to_html()
    assert page.count("<svg") == 2
    assert page.count('<marker id="line1-ok"') == 1 and page.count('<marker id="line2-ok"') == 1
    assert page.index("<h2>Line 1</h2>") < page.index("url(#line1-ok)") < page.index("<h2>Line 2</h2>") < page.index(
        "url(#line2-ok)")


def test_wide_characters_count_two_columns() -> None:
    from tradevc.verifier.entry.drawing import columns

    name = "包头钢铁集团稀土钢板材有限责任公司炼钢厂" * 3  # a melt shop's name in Chinese, 60 characters
    report = two_step_world(melt_shop=name).run()
    drawing = drawing_of(report)
    assert columns("钢a") == 3
    assert all(columns(text) <= 100 for text in drawing), max(drawing, key=columns)
    melt = "".join(text.strip("│ ") for text in box_lines(drawing, "[1] MELT AND POUR"))
    assert name in melt.replace(" ", "")  # wrapped, not cut


# -- bounded output ---------------------------------------------------------------------------------


def _event_linking_to_ghosts(world: Any, count: int, facility: str) -> None:
    """Re-issue the pipe works' event (signed for real) with ``count`` more relatedResource
    links to credentials nobody holds, and a facility named ``facility``; the pipe mill's
    report pins the new event."""
    from support.entries import mill_report, sign
    from support.supply_world import pipe_event

    melt = next(c for c in world.credentials if c.get("id") == MELT_ID)
    event = {k: v for k, v in pipe_event(day=world.day, source=melt, facility=facility).items() if k != "proof"}
    pinned = event["relatedResource"][0]
    event["relatedResource"] = [pinned] + [
        {"id": f"urn:uuid:ghost-{i}", "mediaType": "application/vc", "digestSRI": pinned["digestSRI"]}
        for i in range(count)]
    event = sign(event, PIPE_WORKS)
    world.replace(EVENT_ID, event)
    world.replace(PIPE_ID, mill_report(day=world.day, heats=[(HEAT, "CN", 98000)], source=event))


def test_a_credential_linking_to_thousands_of_others_draws_a_bounded_path() -> None:
    """A party cannot make the drawing as big as its documents: links to credentials not held
    are drawn up to a few per credential (the rest counted), and a value is shown up to a
    length (the rest counted); the report's findings still list every break."""
    world = two_step_world()
    _event_linking_to_ghosts(world, 400, "Tubos " + "del Golfo " * 400)
    report = world.run()
    assert sum(f["code"] == "MISSING_LINK" for f in report.supply_paths["1"]["findings"]) == 400
    drawing = drawing_of(report)
    assert len(drawing) < 200, len(drawing)
    assert sum("NOT HELD by the verifier" in text for text in drawing) <= 8
    assert any("and 392 more" in text for text in drawing)
    assert any("more characters" in text for text in drawing)
    svg = draw_svg(report.supply_paths["1"], report.line(1))
    tree = ET.fromstring(svg)
    assert len([g for g in tree.iter(f"{SVG}g")]) <= 16
    assert float(tree.get("width") or 0) < 6000
    assert len(report.to_html()) < 200_000


def test_a_node_kind_from_a_json_report_is_not_written_into_the_svg() -> None:
    """The drawing reads a path as the JSON report gives it; a kind that is not one of the
    drawing's own cannot add an attribute to the SVG."""
    world = two_step_world()
    report = world.run()
    path = json.loads(report.to_json())["supplyPaths"]["1"]
    for node in path["nodes"]:
        node["kind"] = 'x" onmouseover="alert(1)" data-y="'
    svg = draw_svg(path, report.line(1))
    tree = ET.fromstring(svg)
    for element in tree.iter():
        assert not any(name.startswith("on") for name in element.attrib), element.attrib
    assert "alert(1)" not in svg


def test_hidden_characters_in_findings_and_documents_are_escaped_in_the_html() -> None:
    """Not only the drawing: a heat number with a right-to-left override and a terminal escape,
    quoted in a finding's message and evidence, shows as \\uXXXX on the page (the override would
    reorder what the officer reads of the rest of the cell)."""
    from support.entries import World

    heat = "H26\u202e1NC\x1b[2J"
    world = World.steel(heats=[(heat, "CN", 78422)])
    world.line = dict(world.line, heats=[heat])
    report = world.run()
    page = report.to_html()
    assert "\u202e" not in page and "\x1b" not in page
    assert "H26\\u202e1NC\\u001b[2J" in page
