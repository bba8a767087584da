"""The HTML entry report (``EntryReport.to_html``, ``vc-verify entry --report``) in a real
headless browser: Debian's chromium, driven by selenium through Debian's chromedriver (no
browser is downloaded). It renders, shows the decision and the rejected line's findings as
text on the page, logs no console error, loads nothing but its own file, and a declared value
holding a script tag is shown as text, never run. One browser for the module."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.browser import headless_chromium
from support.entries import World

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def steel() -> World:
    return World.steel()


def show(browser: Any, report: Any, folder: Path) -> Any:
    """Open ``report.to_html()`` as a file:// page; the browser's log is emptied first."""
    page = folder / "entry.html"
    page.write_text(report.to_html(), encoding="utf-8")
    browser.get_log("browser")  # what an earlier page logged
    browser.get(page.as_uri())
    return browser


def body_text(browser: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.TAG_NAME, "body").text)


def assert_clean(browser: Any) -> None:
    """No console error, nothing loaded but the page itself, no script on it, no alert open."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    severe = [entry for entry in browser.get_log("browser") if entry.get("level") == "SEVERE"]
    assert severe == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.find_elements(By.TAG_NAME, "script") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text


def test_an_accepted_entry_renders_its_decision(browser: Any, steel: World, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    report = steel.run()
    assert report.decision.value == "ACCEPT"
    show(browser, report, tmp_path)
    assert browser.title == "Entry ABC-1234567-8: ACCEPT"
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.is_displayed() and heading.text == "Entry ABC-1234567-8: ACCEPT"
    (row,) = [r for r in browser.find_elements(By.CSS_SELECTOR, "tr.ACCEPT") if r.text.startswith("1 ")]
    assert row.is_displayed() and "7304.19.1020" in row.text and "ACCEPT" in row.text
    assert "REJECT" not in body_text(browser)
    assert_clean(browser)


def test_a_rejected_entry_shows_its_findings_and_a_script_as_text(browser: Any, steel: World,
                                                                   tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    world = copy.deepcopy(steel)
    world.line = dict(world.line, description=f"{SCRIPT} pipe", countryOfMeltAndPour="CN")
    report = world.run()
    assert report.decision.value == "REJECT"
    show(browser, report, tmp_path)
    assert browser.title == "Entry ABC-1234567-8: REJECT"
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.is_displayed() and heading.text == "Entry ABC-1234567-8: REJECT"
    # the line's row: its decision and, as text, the declared description with the script tag
    line_row = browser.find_element(By.XPATH, "//table[1]//tr[td[1]='1']")
    assert line_row.is_displayed() and "REJECT" in line_row.text and f"{SCRIPT} pipe" in line_row.text
    # the line's findings, under its own heading: the melt-and-pour rule with its evidence
    assert browser.find_element(By.XPATH, "//h2[.='Line 1']").is_displayed()
    (finding,) = [r for r in browser.find_elements(By.CSS_SELECTOR, "tr.REJECT")
                  if "steel.melt-pour.matches-mill" in r.text]
    assert finding.is_displayed() and finding.text.startswith("REJECT")
    assert "urn:uuid:mtr-1#/credentialSubject/product/0/originalCountryOfMeltAndPour = MX" in finding.text
    assert f"{SCRIPT} pipe" in body_text(browser)
    assert_clean(browser)


def test_the_supply_path_is_drawn_from_melt_to_the_entry_line(browser: Any, tmp_path: Path) -> None:
    """A pipe line whose heat was melted and poured in CN, made into pipe in MX (a
    transformation event) and restated by the pipe mill: the drawing is an inline SVG of boxes
    from the melt shop at the top to the entry line at the bottom, with the contradicting box
    outlined, a hostile facility name shown as text, and nothing loaded or run."""
    from selenium.webdriver.common.by import By

    from support.supply_world import EVENT_ID, MELT_ID, PIPE_ID, two_step_world

    report = two_step_world(declared="MX", facility=f"{SCRIPT} Tubos del Golfo").run()
    assert report.decision.value == "REJECT"
    show(browser, report, tmp_path)
    (svg,) = browser.find_elements(By.CSS_SELECTOR, "div.supply-path svg")
    assert svg.is_displayed() and svg.size["width"] > 400 and svg.size["height"] > 300
    boxes = {g.get_attribute("data-key"): g for g in svg.find_elements(By.CSS_SELECTOR, "g.box")}
    assert set(boxes) >= {MELT_ID, EVENT_ID, PIPE_ID, "#line"}
    for key in (MELT_ID, EVENT_ID, PIPE_ID, "#line"):
        rect = boxes[key].find_element(By.TAG_NAME, "rect")
        assert rect.is_displayed() and rect.size["width"] > 100 and rect.size["height"] > 20, key
    # the melt shop's box, on top, says where the heat was melted and poured, and is the one
    # outlined as contradicting the declaration
    melt_text = [t for t in boxes[MELT_ID].find_elements(By.TAG_NAME, "text") if "melted and poured in CN" in t.text]
    assert melt_text and all(t.is_displayed() for t in melt_text) and "H26-18841" in melt_text[0].text
    assert "contradicts" in boxes[MELT_ID].get_attribute("class")
    assert "CONTRADICTS THE DECLARATION" in boxes[MELT_ID].text
    assert "contradicts" not in boxes[EVENT_ID].get_attribute("class")
    tops = {key: boxes[key].find_element(By.TAG_NAME, "rect").location["y"] for key in boxes}
    assert tops[MELT_ID] < tops[EVENT_ID] < tops[PIPE_ID] < tops["#line"]
    # arrows between them
    edges = svg.find_elements(By.CSS_SELECTOR, "path.edge")
    assert len(edges) >= 3 and all(e.is_displayed() for e in edges)
    assert f"{SCRIPT} Tubos del Golfo" in boxes[EVENT_ID].text
    assert_clean(browser)
