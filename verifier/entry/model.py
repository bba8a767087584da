"""The entry declaration: what an importer (or its customs broker) declares to customs for one
entry: the entry number, the dates, the importer of record and the filer, and the lines of
goods with their tariff number, quantity, value, origin, melt and pour, manufacturer, SIMA
licence, preference claimed, and the credentials that support each line.

:meth:`Entry.from_json` reads a declaration and raises :class:`EntryError` with one problem
per line, each naming its JSON path (``lines[1].hts: ...``); :meth:`Entry.json_schema` is the
JSON Schema of the format (shipped as ``entry.schema.json`` next to this module)::

    {"entryNumber": "ABC-1234567-8", "dateOfImport": "2025-02-10", "entrySummaryDate": "2025-02-12",
     "importerOfRecord": {"identifier": "76-1234567", "did": "did:key:...", "name": "Gulf Coast Pipe"},
     "filer": {"identifier": "ABC", "did": "did:key:...", "name": "Border Brokers"}, "portOfEntry": "2304",
     "lines": [{"line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe",
                "quantity": 78422, "unit": "KGM", "value": 113711.90,
                "countryOfOrigin": "MX", "countryOfMeltAndPour": "MX",
                "manufacturerId": "MXACEDEL1234SAN", "simaLicenseNumber": "SIMA-2026-0418739",
                "preference": "USMCA", "heats": ["H26-18841"], "marks": [],
                "credentials": ["urn:uuid:...", "urn:uuid:..."]}]}
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator,
)
from pydantic.alias_generators import to_camel

from tradevc.vc.checks.supply import KG_PER_UNIT
from tradevc.vc.errors import NotUtf8Error
from tradevc.vc.jsontext import decode_text
from tradevc.vc.model import describe_error

__all__ = ["Entry", "EntryError", "Line", "Party", "SCHEMA_PATH", "UNITS", "read_entry"]

SCHEMA_PATH = Path(__file__).with_name("entry.schema.json")

# Quantity units customs reports in (UN/ECE Recommendation 20 codes), with their mass in kg
# where they are masses; others (pieces, metres) cannot be drawn against a mass.
UNITS: dict[str, Decimal | None] = {
    **{code: KG_PER_UNIT[code] for code in ("KGM", "TNE", "LBR", "GRM")}, "NMB": None, "MTR": None, "MTK": None,
}

_COUNTRY = re.compile(r"[A-Z]{2}")
_HTS = re.compile(r"[0-9]{4}\.?[0-9]{2}\.?[0-9]{2}(?:\.?[0-9]{2})?")
_ENTRY_NUMBER = re.compile(r"[A-Z0-9]{3}-?[0-9]{7}-?[0-9]")
_DID = re.compile(r"did:[a-z0-9]+:\S+")


def _country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise ValueError(f"must be an ISO 3166-1 alpha-2 country code (two capital letters), got {value!r}")
    return value


def _hts(value: str) -> str:
    if not _HTS.fullmatch(value):
        raise ValueError(f"must be an HTSUS number of 8 or 10 digits (e.g. 7304.19.1020), got {value!r}")
    return value.replace(".", "")


def _did(value: str) -> str:
    if not _DID.fullmatch(value):
        raise ValueError(f"must be a DID (did:method:...), got {value!r}")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Country = Annotated[str, AfterValidator(_country), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"})]
Text = Annotated[str, AfterValidator(_text), WithJsonSchema({"type": "string", "minLength": 1})]
Did = Annotated[str, AfterValidator(_did), WithJsonSchema({"type": "string", "pattern": r"^did:[a-z0-9]+:\S+$"})]
Hts = Annotated[str, AfterValidator(_hts), WithJsonSchema({"type": "string", "pattern": "^" + _HTS.pattern + "$"})]
PortCode = Annotated[str, AfterValidator(lambda v: _port(v)), WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}$"})]
EntryNumber = Annotated[str, AfterValidator(lambda v: _entry_number(v)),
                        WithJsonSchema({"type": "string", "pattern": "^" + _ENTRY_NUMBER.pattern + "$"})]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, str_strip_whitespace=True,
    )


class Party(_Model):
    """The importer of record (its CBP importer number or EIN) or a filer (a customs broker's
    filer code), with the DID it presents with."""

    identifier: Text = Field(description="Importer of record number (IRS EIN, CBP-assigned number) or filer code")
    did: Did | None = Field(default=None, description="The DID the party signs presentations with")
    name: Text | None = None


class Line(_Model):
    """One line of the entry summary."""

    line: int = Field(ge=1, le=9999, description="Line number, unique within the entry")
    hts: Hts = Field(description="HTSUS number, 10 digits (dots allowed)")
    description: Text
    quantity: Decimal = Field(gt=0, description="Net quantity in ``unit`` (for steel: net steel mass)")
    unit: Annotated[str, WithJsonSchema({"type": "string", "enum": list(UNITS)})] = Field(description="Unit (UN/ECE Rec. 20): KGM, TNE, LBR, GRM, NMB, MTR, MTK")
    value: Decimal = Field(ge=0, description="Entered value in USD")
    country_of_origin: Country
    country_of_melt_and_pour: Country | None = Field(
        default=None, description="Steel: where the steel was first made liquid and cast into a solid shape")
    manufacturer_id: Text | None = Field(default=None, description="CBP manufacturer identification code (MID)")
    sima_license_number: Text | None = None
    preference: Text | None = Field(default=None, description="Preference claimed, e.g. USMCA")
    heats: list[Text] = Field(default_factory=list, description="Heat numbers of the steel the line holds")
    marks: list[Text] = Field(default_factory=list, description="Trademarks the goods bear")
    credentials: list[Text] = Field(default_factory=list, description="Ids of the credentials supporting the line")

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"must be one of {', '.join(UNITS)}, got {value!r}")
        return value

    @property
    def chapter(self) -> str:
        return self.hts[:2]

    @property
    def hs6(self) -> str:
        return self.hts[:6]

    def quantity_kg(self) -> Decimal | None:
        """The quantity in kilograms, or None if the unit is not a mass."""
        factor = UNITS[self.unit]
        return None if factor is None else self.quantity * factor


class Entry(_Model):
    """An entry declaration (CBP Form 7501 data) with the credentials' ids per line."""

    entry_number: EntryNumber = Field(
        description="Entry number: filer code, 7 digits, check digit (ABC-1234567-8)")
    date_of_import: date
    entry_summary_date: date
    importer_of_record: Party
    filer: Party | None = Field(default=None, description="The customs broker filing for the importer, if any")
    port_of_entry: PortCode | None = Field(
        default=None, description="CBP port code where the goods are entered (four digits, Schedule D)")
    lines: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_lines(self) -> "Entry":
        seen: set[int] = set()
        for line in self.lines:
            if line.line in seen:
                raise ValueError(f"line number {line.line} appears twice")
            seen.add(line.line)
        return self

    @classmethod
    def from_json(cls, data: Any) -> "Entry":
        """Read a declaration (parsed JSON).

        :raises EntryError: it does not match the format; ``problems`` has one message per
            problem, each starting with its JSON path.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise EntryError(_problems(e)) from e

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema (2020-12) of the declaration format."""
        schema = cls.model_json_schema(by_alias=True)
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://tradevc.example/schemas/entry.schema.json", **schema}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return out


def _port(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}", value):
        raise ValueError(f"must be a CBP port code of four digits (Schedule D), like 2304 for Laredo, got {value!r}")
    return value


def _entry_number(value: str) -> str:
    if not _ENTRY_NUMBER.fullmatch(value):
        raise ValueError(f"must be a filer code, 7 digits and a check digit (ABC-1234567-8), got {value!r}")
    return value


class EntryError(ValueError):
    """A declaration that does not match the format: ``problems`` says where and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _problems(error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = describe_error(item)  # in plain words: "must be a number, got 'a lot'"
        if item["type"] == "extra_forbidden":
            message = "unknown member (not in the entry format)"
        out.append(f"{path or '(entry)'}: {message}")
    return out


def read_entry(path: str | Path) -> Entry:
    """Read a declaration file.

    :raises OSError: unreadable. :raises EntryError: not JSON, or not the format.
    """
    try:
        data = json.loads(decode_text(Path(path).read_bytes()))  # UTF-8, with or without a byte order mark
    except NotUtf8Error as e:
        raise EntryError([f"(entry): {e.message}"]) from None
    except json.JSONDecodeError as e:
        raise EntryError([f"(entry): not JSON: {e.msg} (line {e.lineno})"]) from None
    except RecursionError:
        raise EntryError(["(entry): the JSON text is nested too deeply to be read"]) from None
    return Entry.from_json(data)
