"""pydantic models of the VC Data Model 2.0 (and 1.1) documents.

The models *check* a document; they never produce the bytes that get signed. Signing and
verification always work on the JSON exactly as given, so validation can never reorder, add
or drop anything covered by a signature. Unknown properties are allowed (JSON-LD contexts
decide what they mean; data-loss detection refuses what they do not define).

Use :func:`parse_credential`, :func:`parse_presentation` and :func:`parse_proof`; they raise
:class:`~tradevc.vc.errors.InvalidDocument` listing every problem found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any, TypeGuard, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import json_kind, shown
from tradevc.vc.digests import parse_digests

__all__ = [
    "CREDENTIALS_V1",
    "CREDENTIALS_V2",
    "DataModel",
    "Credential",
    "Presentation",
    "Proof",
    "parse_credential",
    "parse_presentation",
    "parse_proof",
    "parse_datetime",
    "is_url",
    "describe_error",
]

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"


class DataModel(str, Enum):
    V1_1 = "1.1"
    V2_0 = "2.0"


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
# XML Schema dateTimeStamp: a dateTime whose time zone is mandatory.
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def is_url(value: Any) -> TypeGuard[str]:
    """True if ``value`` is an absolute URL (a scheme followed by a non-empty, space-free rest)."""
    return isinstance(value, str) and _URL.match(value) is not None


def parse_datetime(value: Any, *, field: str = "value") -> datetime:
    """Parse an XML Schema dateTimeStamp (time zone required) to an aware datetime.

    :raises ValueError: not a string in that form, or not a real date and time.
    """
    if not isinstance(value, str):
        parsed = None
    elif len(value) <= 64:  # a real dateTimeStamp is about 20 to 35 characters
        parsed = _parse_date_time_stamp_cached(value)
    else:  # not worth keeping (and not kept: the cache's memory stays small)
        parsed = _parse_date_time_stamp(value)
    if parsed is None:
        raise ValueError(
            f"{field} must be an XML Schema dateTimeStamp with a time zone, "
            f"like 2026-01-01T00:00:00Z; got {shown(value)}"
        )
    if isinstance(parsed, str):
        raise ValueError(f"{field} {value!r} is not a valid date and time: {parsed}")
    return parsed


def _parse_date_time_stamp(value: str) -> datetime | str | None:
    """The datetime ``value`` spells, None if it is not a dateTimeStamp, or why it is not a
    real date and time."""
    if not _DATE_TIME_STAMP.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as e:
        return str(e)


# One verification reads each date of a credential and its proofs several times (the data
# model's checks, the validity period, the proof times), and a batch repeats the same few
# dates; datetimes are immutable, so each distinct short string is parsed once.
_parse_date_time_stamp_cached = lru_cache(maxsize=4096)(_parse_date_time_stamp)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_types(value: Any, required: str) -> Any:
    types = _as_list(value)
    if not types or not all(isinstance(t, str) and t for t in types):
        raise ValueError("type must be a string or a list of non-empty strings")
    if required not in types:
        raise ValueError(f"type must include {required!r}; got {shown(value)}")
    return value


def _check_context(value: Any) -> Any:
    contexts = _as_list(value)
    if not contexts:
        raise ValueError("@context must not be empty")
    if contexts[0] not in (CREDENTIALS_V2, CREDENTIALS_V1):
        raise ValueError(
            f"the first @context must be {CREDENTIALS_V2!r} (VC Data Model 2.0) or "
            f"{CREDENTIALS_V1!r} (1.1); got {shown(contexts[0])}"
        )
    for entry in contexts:
        if not (isinstance(entry, str) or isinstance(entry, dict)):
            raise ValueError("each @context entry must be a URL or an object")
    return value


def _check_typed_entries(value: Any, name: str) -> Any:
    entries = _as_list(value)
    for i, entry in enumerate(entries):
        where = name if not isinstance(value, list) else f"{name}[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object")
        if not entry.get("type"):
            raise ValueError(f"{where} must have a type")
        if "id" in entry and not is_url(entry["id"]):
            raise ValueError(f"{where}.id must be a URL; got {shown(entry['id'])}")
    return value


def _digests(entry: dict[str, Any], where: str) -> None:
    try:
        parse_digests(entry, where)
    except InvalidDocument as e:
        raise ValueError(e.message) from None


class _Document(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    context: Any = Field(alias="@context")
    id: str | None = None
    type: Any
    proof: Any = None

    @field_validator("context")
    @classmethod
    def _context(cls, value: Any) -> Any:
        return _check_context(value)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not is_url(value):
            raise ValueError(f"id must be a URL; got {shown(value)}")
        return value

    @field_validator("proof")
    @classmethod
    def _proof(cls, value: Any) -> Any:
        if value is None:
            return value
        for entry in _as_list(value):
            if not isinstance(entry, dict):
                raise ValueError("proof must be an object or a list of objects")
        return value

    @property
    def contexts(self) -> list[Any]:
        return _as_list(self.context)

    @property
    def types(self) -> list[str]:
        return list(_as_list(self.type))

    @property
    def data_model(self) -> DataModel:
        return DataModel.V2_0 if self.contexts[0] == CREDENTIALS_V2 else DataModel.V1_1


class Credential(_Document):
    """A verifiable credential (VC Data Model 2.0 or 1.1), as checked by :func:`parse_credential`."""

    issuer: Any
    credentialSubject: Any
    validFrom: str | None = None
    validUntil: str | None = None
    issuanceDate: str | None = None
    expirationDate: str | None = None
    credentialStatus: Any = None
    credentialSchema: Any = None
    evidence: Any = None
    termsOfUse: Any = None
    refreshService: Any = None
    relatedResource: Any = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return _check_types(value, "VerifiableCredential")

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not is_url(value):
                raise ValueError(f"issuer must be a URL; got {shown(value)}")
        elif isinstance(value, dict):
            if not is_url(value.get("id")):
                raise ValueError(f"issuer.id must be a URL; got {shown(value.get('id'))}")
        else:
            raise ValueError("issuer must be a URL or an object with an id")
        return value

    @field_validator("credentialSubject")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        subjects = _as_list(value)
        if not subjects:
            raise ValueError("credentialSubject must not be empty")
        for subject in subjects:
            if not isinstance(subject, dict) or not subject:
                raise ValueError("credentialSubject must be a non-empty object or a list of them")
            if "id" in subject and not is_url(subject["id"]):
                raise ValueError(f"credentialSubject.id must be a URL; got {shown(subject['id'])}")
        return value

    @field_validator("validFrom", "validUntil", "issuanceDate", "expirationDate", mode="before")
    @classmethod
    def _date(cls, value: Any, info: Any) -> Any:
        if value is not None:
            parse_datetime(value, field=info.field_name)
        return value

    @field_validator("credentialStatus", "evidence", "termsOfUse", "refreshService")
    @classmethod
    def _typed(cls, value: Any, info: Any) -> Any:
        return value if value is None else _check_typed_entries(value, info.field_name)

    @field_validator("credentialSchema")
    @classmethod
    def _schema(cls, value: Any) -> Any:
        # Each data schema MUST specify its type and an id that is a URL (VC DM 2.0 section
        # 5.2; 1.1 section 5.4); a digest, if given, must be well-formed.
        if value is None:
            return value
        _check_typed_entries(value, "credentialSchema")
        for i, entry in enumerate(_as_list(value)):
            where = "credentialSchema" if not isinstance(value, list) else f"credentialSchema[{i}]"
            if "id" not in entry:
                raise ValueError(f"{where} must have an id (the URL of the schema)")
            _digests(entry, where)
        return value

    @field_validator("relatedResource")
    @classmethod
    def _related(cls, value: Any) -> Any:
        # VC DM 2.0 section 5.3: objects with a URL id, unique among them, each with at least
        # a digestSRI or a digestMultibase.
        if value is None:
            return value
        entries = _as_list(value)
        if not entries:
            raise ValueError("relatedResource must not be empty")
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not is_url(entry.get("id")):
                raise ValueError(f"relatedResource[{i}] must be an object with a URL id")
            if entry["id"] in seen:
                raise ValueError(f"relatedResource[{i}].id {entry['id']!r} is listed twice; ids must be unique")
            seen.add(entry["id"])
            if "digestSRI" not in entry and "digestMultibase" not in entry:
                raise ValueError(f"relatedResource[{i}] must carry digestSRI or digestMultibase")
            _digests(entry, f"relatedResource[{i}]")
        return value

    @model_validator(mode="after")
    def _version_rules(self) -> "Credential":
        if self.data_model is DataModel.V1_1:
            if self.issuanceDate is None:
                raise ValueError("a VC Data Model 1.1 credential must have issuanceDate")
            start: tuple[str, str | None] = ("issuanceDate", self.issuanceDate)
            end: tuple[str, str | None] = ("expirationDate", self.expirationDate)
        else:
            start, end = ("validFrom", self.validFrom), ("validUntil", self.validUntil)
        if start[1] is not None and end[1] is not None:
            if parse_datetime(end[1]) < parse_datetime(start[1]):
                raise ValueError(f"{end[0]} {end[1]} is before {start[0]} {start[1]}")
        return self

    @property
    def issuer_id(self) -> str:
        return self.issuer if isinstance(self.issuer, str) else self.issuer["id"]

    @property
    def validity_strings(self) -> tuple[str | None, str | None]:
        """The start and end of the validity period as written: ``validFrom`` and
        ``validUntil`` (1.1: ``issuanceDate`` and ``expirationDate``)."""
        if self.data_model is DataModel.V2_0:
            return self.validFrom, self.validUntil
        return self.issuanceDate, self.expirationDate

    @property
    def valid_from(self) -> datetime | None:
        value = self.validity_strings[0]
        return None if value is None else parse_datetime(value)

    @property
    def valid_until(self) -> datetime | None:
        value = self.validity_strings[1]
        return None if value is None else parse_datetime(value)


class Presentation(_Document):
    """A verifiable presentation, as checked by :func:`parse_presentation`."""

    holder: Any = None
    verifiableCredential: Any = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return _check_types(value, "VerifiablePresentation")

    @field_validator("holder")
    @classmethod
    def _holder(cls, value: Any) -> Any:
        if value is None:
            return value
        holder_id = value.get("id") if isinstance(value, dict) else value
        if not is_url(holder_id):
            raise ValueError(f"holder must be a URL or an object whose id is a URL; got {shown(value)}")
        return value

    @field_validator("verifiableCredential")
    @classmethod
    def _credentials(cls, value: Any) -> Any:
        if value is None:
            return value
        for entry in _as_list(value):
            if not isinstance(entry, dict):
                raise ValueError("verifiableCredential must be an object or a list of objects")
        return value

    @property
    def holder_id(self) -> str | None:
        return self.holder.get("id") if isinstance(self.holder, dict) else self.holder


class Proof(BaseModel):
    """A Data Integrity proof (VC Data Integrity 1.0), as checked by :func:`parse_proof`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    context: Any = Field(default=None, alias="@context")
    id: str | None = None
    type: str
    cryptosuite: str | None = None
    verificationMethod: str
    proofPurpose: str
    created: str | None = None
    expires: str | None = None
    proofValue: str | None = None
    challenge: str | None = None
    domain: str | list[str] | None = None
    nonce: str | None = None
    previousProof: str | list[str] | None = None

    @field_validator("verificationMethod")
    @classmethod
    def _vm(cls, value: str) -> str:
        if not is_url(value):
            raise ValueError(f"verificationMethod must be a URL; got {shown(value)}")
        return value

    @field_validator("created", "expires", mode="before")
    @classmethod
    def _date(cls, value: Any, info: Any) -> Any:
        if value is not None:
            parse_datetime(value, field=info.field_name)
        return value


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(model: type[_Model], document: Any, what: str) -> _Model:
    if not isinstance(document, Mapping):
        raise InvalidDocument(f"a {what} must be a JSON object, not {json_kind(document)}")
    try:
        return model.model_validate(dict(document))
    except ValidationError as e:
        raise InvalidDocument(f"invalid {what}: {_describe(e)}") from e


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        msg = describe_error(item)
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _given(value: Any) -> str:
    """``got ...`` of a message: a string quoted (cut at 60 characters), anything else by kind."""
    if isinstance(value, str):
        return "got an empty string" if not value else f"got '{value[:60]}{'...' if len(value) > 60 else ''}'"
    return f"got {json_kind(value)}"


_DATE = "a date (YYYY-MM-DD)"
_DATE_TIME = "a date and time with a time zone, like 2026-01-01T00:00:00Z"
_EXPECTED = {  # pydantic's error type -> what the value must be
    "string_type": "a string", "str_type": "a string",
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer (no fractional part)",
    "float_type": "a number", "float_parsing": "a number", "decimal_type": "a number", "decimal_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "list_type": "a list", "tuple_type": "a list", "set_type": "a list", "frozen_set_type": "a list",
    "dict_type": "a JSON object", "model_type": "a JSON object", "model_attributes_type": "a JSON object",
    "dataclass_type": "a JSON object", "mapping_type": "a JSON object",
    "date_type": _DATE, "date_parsing": _DATE, "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATE_TIME, "datetime_parsing": _DATE_TIME, "datetime_from_date_parsing": _DATE_TIME,
    "url_type": "a URL", "url_parsing": "a URL", "url_scheme": "a URL", "uuid_type": "a UUID", "uuid_parsing": "a UUID",
}
_BOUNDS = {"greater_than": ("gt", "greater than"), "greater_than_equal": ("ge", "at least"),
           "less_than": ("lt", "less than"), "less_than_equal": ("le", "at most")}


def describe_error(item: Mapping[str, Any]) -> str:
    """One error of a pydantic ``ValidationError`` (an item of ``errors()``) in plain words,
    without its path: ``must be a string, got a number``, ``required field is missing``. The
    messages of the models' own validators are kept (less pydantic's ``Value error,``)."""
    kind = str(item.get("type", ""))
    ctx = item.get("ctx") or {}
    given = item.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown member"
    if kind in _EXPECTED:
        return f"must be {_EXPECTED[kind]}, {_given(given)}"
    if kind in ("too_short", "string_too_short"):
        least = ctx.get("min_length", 1)
        if least == 1:
            return "must not be empty"
        return f"must have at least {least} {'characters' if kind.startswith('string') else 'items'}"
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {ctx.get('max_length')} {'characters' if kind.startswith('string') else 'items'}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}, {_given(given)}"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        number = isinstance(given, (int, float, Decimal)) and not isinstance(given, bool)
        return f"must be {words} {ctx.get(key)}, " + (f"got {given}" if number else _given(given))
    if kind in ("literal_error", "enum"):
        return f"must be {ctx.get('expected')}, {_given(given)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"does not have a form allowed here, {_given(given)}"
    message = str(item.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.replace("Input should be", "must be")


def parse_credential(document: Any) -> Credential:
    """Check ``document`` against the VC Data Model (2.0, or 1.1 by its first context).

    :raises InvalidDocument: listing every rule the document breaks.
    """
    return _validate(Credential, document, "credential")


def parse_presentation(document: Any) -> Presentation:
    """Check ``document`` as a verifiable presentation.

    :raises InvalidDocument: listing every rule the document breaks.
    """
    return _validate(Presentation, document, "presentation")


def parse_proof(proof: Any) -> Proof:
    """Check ``proof`` as a Data Integrity proof.

    :raises InvalidDocument: listing every rule the proof breaks.
    """
    return _validate(Proof, proof, "proof")
