"""The entry declaration model (tradevc.verifier.entry.model): what it accepts, each refusal
with its JSON path, and the shipped JSON Schema kept equal to the model."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from tradevc.verifier.entry import Entry, EntryError
from tradevc.verifier.entry.model import SCHEMA_PATH, read_entry

GOOD: dict[str, Any] = {
    "entryNumber": "ABC-1234567-8", "dateOfImport": "2025-02-10", "entrySummaryDate": "2025-02-12",
    "importerOfRecord": {"identifier": "76-1234567", "did": "did:web:gulfcoastpipe.example", "name": "Gulf Coast Pipe"},
    "filer": {"identifier": "ABC", "name": "Border Brokers"},
    "lines": [{"line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe", "quantity": 39.211,
               "unit": "TNE", "value": 113711.90, "countryOfOrigin": "MX", "countryOfMeltAndPour": "MX",
               "manufacturerId": "MXACEDEL1234SAN", "simaLicenseNumber": "SIMA-2026-0418739", "preference": "USMCA",
               "heats": ["H26-18841"], "credentials": ["urn:uuid:mtr-1"]}],
}


def test_a_declaration_is_read() -> None:
    entry = Entry.from_json(GOOD)
    line = entry.lines[0]
    assert entry.entry_number == "ABC-1234567-8" and entry.date_of_import.isoformat() == "2025-02-10"
    assert line.hts == "7304191020" and line.hs6 == "730419" and line.chapter == "73"
    assert line.quantity_kg() == Decimal("39211.000")
    assert entry.filer is not None and entry.filer.did is None
    assert entry.to_json()["lines"][0]["countryOfMeltAndPour"] == "MX"


def changed(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return data


@pytest.mark.parametrize("path, value, problem", [
    ("entryNumber", "1234", "entryNumber: must be a filer code, 7 digits and a check digit"),
    ("dateOfImport", "10/02/2025", "dateOfImport: must be a date (YYYY-MM-DD), got '10/02/2025'"),
    ("entrySummaryDate", KeyError, "entrySummaryDate: required field is missing"),
    ("importerOfRecord.did", "gulfcoastpipe", "importerOfRecord.did: must be a DID"),
    ("importerOfRecord.identifier", " ", "importerOfRecord.identifier: must not be empty"),
    ("lines", [], "lines: must not be empty"),
    ("lines.0.hts", "7304", "lines[0].hts: must be an HTSUS number of 8 or 10 digits"),
    ("lines.0.quantity", 0, "lines[0].quantity: must be greater than 0, got 0"),
    ("lines.0.unit", "kg", "lines[0].unit: must be one of KGM"),
    ("lines.0.countryOfOrigin", "Mexico", "lines[0].countryOfOrigin: must be an ISO 3166-1 alpha-2"),
    ("lines.0.countryOfMeltAndPour", "mx", "lines[0].countryOfMeltAndPour: must be an ISO 3166-1 alpha-2"),
    ("lines.0.line", 0, "lines[0].line: must be at least 1, got 0"),
    ("lines.0.heats", "H26-18841", "lines[0].heats: must be a list, got 'H26-18841'"),
    ("lines.0.meltCountry", "MX", "lines[0].meltCountry: unknown member (not in the entry format)"),
])
def test_a_bad_declaration_names_the_json_path(path: str, value: Any, problem: str) -> None:
    with pytest.raises(EntryError) as e:
        Entry.from_json(changed(path, value))
    assert any(p.startswith(problem) for p in e.value.problems), e.value.problems


def test_every_problem_is_reported_at_once() -> None:
    data = changed("lines.0.hts", "73")
    data["lines"][0]["unit"] = "kg"
    del data["entryNumber"]
    with pytest.raises(EntryError) as e:
        Entry.from_json(data)
    assert [p.split(":")[0] for p in e.value.problems] == ["entryNumber", "lines[0].hts", "lines[0].unit"]


def test_line_numbers_are_unique() -> None:
    data = copy.deepcopy(GOOD)
    data["lines"].append(dict(data["lines"][0]))
    with pytest.raises(EntryError) as e:
        Entry.from_json(data)
    assert "line number 1 appears twice" in str(e.value)


def test_a_file_that_is_not_json(tmp_path: Any) -> None:
    path = tmp_path / "entry.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(EntryError) as e:
        read_entry(path)
    assert e.value.problems[0].startswith("(entry): not JSON")
    path.write_text(json.dumps([GOOD]), encoding="utf-8")
    with pytest.raises(EntryError):
        read_entry(path)


def test_the_shipped_schema_is_the_models() -> None:
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == Entry.json_schema(), (
        "regenerate verifier/entry/entry.schema.json from Entry.json_schema()")


def test_the_schema_accepts_what_the_model_accepts_and_refuses_a_bad_code() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(GOOD)
    for path, value in (("lines.0.hts", "7304"), ("lines.0.countryOfOrigin", "Mexico"), ("lines.0.unit", "kg"),
                        ("entryNumber", "1234")):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft202012Validator(schema).validate(changed(path, value))


def test_party_names_compare_alike_whatever_their_length() -> None:
    from tradevc.verifier.entry.facts import _cached_name_key, same_name

    assert same_name("Aceros del Norte S.A. de C.V.", "ACEROS DEL NORTE, S.A. DE C.V.")
    assert not same_name("Aceros del Norte", "Aceros del Sur") and not same_name(None, "x") and not same_name("", "")
    long = "Aceros del Norte " * 100  # beyond what the cache keeps
    before = _cached_name_key.cache_info().currsize
    assert same_name(long, long.upper().replace(" ", "-")) and not same_name(long, long + "x")
    assert _cached_name_key.cache_info().currsize == before
