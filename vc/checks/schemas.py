"""VC JSON Schema: ``credentialSchema`` entries of type ``JsonSchema`` and ``JsonSchemaCredential``,
validated with the ``jsonschema`` library against schemas the verifier holds.

A :class:`SchemaStore` holds schemas pinned by URL and SHA-256, like the JSON-LD contexts: the
shipped ones (``contexts/schemas/index.json``: one for each trade credential type) and any
given by an index file of the same form (``{"schemas": [{"url", "file", "sha256"}]}``, files
relative to the index). Nothing is ever fetched, and a ``$ref`` can only reach another held
schema or a JSON Schema meta-schema (bundled with ``jsonschema``).

A held entry is either a JSON Schema (its ``$schema`` is 2020-12, 2019-09 or draft-07, its
``$id`` is the URL it is pinned under) or a ``JsonSchemaCredential``: a verifiable credential
whose ``credentialSubject`` is ``{"type": "JsonSchema", "jsonSchema": {...}}``, as JSON (Data
Integrity) or a compact JWS.

:func:`check_credential_schemas` adds one ``schema`` check per ``credentialSchema`` entry:

* passed: the credential (without its ``proof``: what the issuer validated before signing,
  and what a JOSE credential's payload is) conforms to the schema (VC JSON Schema "Success");
* failed ``SCHEMA_VALIDATION_ERROR``: it does not ("Failure"); the detail names each failing
  path, like ``credentialSubject.goods[0].commodityCode``;
* failed ``RESOURCE_INTEGRITY_ERROR``: the entry's ``digestSRI``/``digestMultibase`` does not
  match the held schema's bytes;
* failed: the entry's type does not match what is held at its URL (``MALFORMED_VALUE_ERROR``),
  or a held ``JsonSchemaCredential`` does not verify (the code of its failed check);
* error: a held ``JsonSchemaCredential`` could not be verified, or the schema refers to a schema
  the verifier does not hold ("Indeterminate");
* skipped: the verifier does not hold the schema (it is never fetched), or the entry's type is
  neither ``JsonSchema`` nor ``JsonSchemaCredential``.

``jsonschema`` is imported on first use, so verifying credentials without ``credentialSchema``
never loads it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources as _resources
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from tradevc.vc.errors import InvalidDocument, NotUtf8Error, ResolutionError, UnsupportedError, VcError
from tradevc.vc.jsontext import decode_text
from tradevc.vc.fastpath import _json_only  # only plain JSON values: orjson writes NaN as null, tuples as lists...
from tradevc.vc.digests import check_digests, parse_digests
from tradevc.vc.multibase import base64url_decode
from tradevc.vc.report import CheckResult, VerificationResult

__all__ = [
    "CHECK",
    "JSON_SCHEMA",
    "JSON_SCHEMA_CREDENTIAL",
    "SUPPORTED_DIALECTS",
    "HeldSchema",
    "SchemaStore",
    "SchemaStoreError",
    "default_schema_store",
    "check_credential_schemas",
    "shipped_schema_for",
]

CHECK = "schema"
JSON_SCHEMA = "JsonSchema"
JSON_SCHEMA_CREDENTIAL = "JsonSchemaCredential"
SCHEMA_VALIDATION_ERROR = "SCHEMA_VALIDATION_ERROR"

SUPPORTED_DIALECTS = {
    "https://json-schema.org/draft/2020-12/schema": "JSON Schema 2020-12",
    "https://json-schema.org/draft/2019-09/schema": "JSON Schema 2019-09",
    "http://json-schema.org/draft-07/schema": "JSON Schema draft-07",
}
"""The JSON Schema versions VC JSON Schema lists (2020-12 required, 2019-09 and draft-07
optional), by ``$schema`` (a trailing ``#`` is allowed)."""

MAX_REPORTED_ERRORS = 50
"""At most this many failing paths are collected for one schema."""

RESULT_CACHE_SIZE = 1024
"""Validation results kept per store, by schema and the SHA-256 of the credential's sorted
compact JSON: validating a trade credential costs milliseconds in pure Python, and the same
credential is often checked again (a wallet's re-check, a presentation of known credentials)."""


class SchemaStoreError(VcError):
    """A schema index or a held schema cannot be used: unreadable, not matching its SHA-256,
    not a JSON Schema of a supported version, its ``$id`` not its URL, a malformed
    ``JsonSchemaCredential``, or two schemas for one URL."""

    code = "SCHEMA_STORE_ERROR"


@dataclass(frozen=True)
class HeldSchema:
    """A schema the verifier holds: its ``url``, ``kind`` (``JsonSchema`` or
    ``JsonSchemaCredential``), the exact bytes pinned, the ``document`` (the JSON Schema, or
    the credential: a JSON object or a compact JWS string) and the JSON Schema itself."""

    url: str
    kind: str
    data: bytes = field(repr=False)
    document: Any = field(repr=False)
    schema: Mapping[str, Any] = field(repr=False)

    @property
    def dialect(self) -> str | None:
        """The JSON Schema version's name (``JSON Schema 2020-12``), or None if unsupported."""
        return _dialect(self.schema.get("$schema"))


def _cache_key(url: str, document: Mapping[str, Any]) -> bytes | None:
    try:
        if type(document) is not dict or not _json_only(document):  # not cached: validated each time
            return None
        canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError, RecursionError):  # a huge integer, too deep...: not cached
        return None
    return hashlib.sha256(url.encode("utf-8") + b"\0" + canonical).digest()


def _dialect(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return SUPPORTED_DIALECTS.get(value[:-1] if value.endswith("#") else value)


def _looks_like_jws(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(parts[:2]) and all(c.isalnum() or c in "-_." for c in text)


def _jws_payload(token: str, url: str) -> Any:
    """The credential in a compact JWS (its payload, or a VC-JWT 1.1 ``vc`` claim); the
    signature is checked when the credential is used, by the verification passed in."""
    try:
        payload = json.loads(base64url_decode(token.split(".")[1]))
    except (InvalidDocument, ValueError, RecursionError) as e:
        raise SchemaStoreError(f"{url}: the compact JWS has no JSON payload") from e
    if isinstance(payload, dict) and "@context" not in payload and isinstance(payload.get("vc"), dict):
        return payload["vc"]
    return payload


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _hold(url: str, data: bytes, declared: str | None, *, check: bool) -> HeldSchema:
    """Read the pinned bytes held for ``url``.

    :raises SchemaStoreError: see the class.
    """
    try:
        text = decode_text(data)  # UTF-8, with or without a byte order mark
    except NotUtf8Error as e:
        raise SchemaStoreError(f"{url}: the held schema is {e.message}") from e
    stripped = text.strip()
    if _looks_like_jws(stripped):
        document: Any = stripped
        credential = _jws_payload(stripped, url)
    else:
        try:
            document = credential = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise SchemaStoreError(f"{url}: the held schema is not JSON: {e}") from e
    if not isinstance(credential, dict):
        raise SchemaStoreError(f"{url}: the held schema must be a JSON object, a credential or a compact JWS")
    if JSON_SCHEMA_CREDENTIAL in _types(credential.get("type")) or isinstance(document, str):
        kind = JSON_SCHEMA_CREDENTIAL
        schema = _schema_of_credential(credential, url)
    else:
        kind, schema = JSON_SCHEMA, credential
        if schema.get("$id") != url:
            raise SchemaStoreError(f"{url}: the schema's $id is {schema.get('$id')!r}; it must be the URL it is held under")
    if declared is not None and declared != kind:
        raise SchemaStoreError(f"{url}: the index says {declared}, but the file holds a {kind}")
    if _dialect(schema.get("$schema")) is None:
        raise SchemaStoreError(
            f"{url}: $schema is {schema.get('$schema')!r}; a schema must name one of "
            + ", ".join(SUPPORTED_DIALECTS)
        )
    held = HeldSchema(url, kind, data, document, schema)
    if check:
        _check_schema(held)
    return held


def _schema_of_credential(credential: Mapping[str, Any], url: str) -> Mapping[str, Any]:
    if JSON_SCHEMA_CREDENTIAL not in _types(credential.get("type")):
        raise SchemaStoreError(f"{url}: the held credential's type does not include {JSON_SCHEMA_CREDENTIAL}")
    if credential.get("id") != url:
        raise SchemaStoreError(f"{url}: the JsonSchemaCredential's id is {credential.get('id')!r}, not its URL")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or JSON_SCHEMA not in _types(subject.get("type")):
        raise SchemaStoreError(f"{url}: a JsonSchemaCredential's credentialSubject must have type {JSON_SCHEMA}")
    schema = subject.get("jsonSchema")
    if not isinstance(schema, dict):
        raise SchemaStoreError(f"{url}: the JsonSchemaCredential's credentialSubject.jsonSchema must be a JSON object")
    return schema


def _check_schema(held: HeldSchema) -> None:
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    cls = validator_for(held.schema)
    try:
        cls.check_schema(held.schema)
    except SchemaError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "the root"
        raise SchemaStoreError(f"{held.url}: not a valid {held.dialect} schema at {where}: {e.message}") from None


def _read_index(text: bytes, where: str) -> list[dict[str, Any]]:
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise SchemaStoreError(f"{where} is not JSON: {e}") from None
    entries = raw.get("schemas") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise SchemaStoreError(f'{where} must be {{"schemas": [{{"url", "file", "sha256"}}, ...]}}')
    for i, entry in enumerate(entries):
        ok = isinstance(entry, dict) and all(isinstance(entry.get(k), str) and entry[k] for k in ("url", "file", "sha256"))
        if not ok:
            raise SchemaStoreError(f"{where}: schemas[{i}] must have the strings url, file and sha256")
        if entry.get("type") not in (None, JSON_SCHEMA, JSON_SCHEMA_CREDENTIAL):
            raise SchemaStoreError(f"{where}: schemas[{i}].type must be {JSON_SCHEMA} or {JSON_SCHEMA_CREDENTIAL}")
    return entries


def _pinned(data: bytes, entry: Mapping[str, Any], where: str) -> bytes:
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry["sha256"].lower():
        raise SchemaStoreError(f"{where}: {entry['file']} has SHA-256 {actual}, the index says {entry['sha256']}")
    return data


class SchemaStore:
    """The schemas a verifier holds, by URL. Never fetches. Thread-safe: compiled validators
    are built once per schema and kept for the life of the store."""

    def __init__(self, schemas: Iterable[HeldSchema] = ()) -> None:
        """:raises SchemaStoreError: two schemas for the same URL."""
        self._schemas: dict[str, HeldSchema] = {}
        for held in schemas:
            if held.url in self._schemas:
                raise SchemaStoreError(f"two schemas are held for {held.url}")
            self._schemas[held.url] = held
        self._validators: dict[str, Any] = {}
        self._registry: Any = None
        self._results: OrderedDict[bytes, list[dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def empty(cls) -> "SchemaStore":
        """A store that holds nothing: every ``credentialSchema`` is reported as skipped."""
        return cls()

    @classmethod
    def shipped(cls) -> "SchemaStore":
        """The schemas shipped in ``contexts/schemas`` (one for each trade credential type).

        :raises SchemaStoreError: a shipped file is missing or does not match its SHA-256.
        """
        folder = _resources.files("tradevc.contexts").joinpath("schemas")
        entries = _read_index(folder.joinpath("index.json").read_bytes(), "contexts/schemas/index.json")
        held = []
        for entry in entries:
            data = _pinned(folder.joinpath(entry["file"]).read_bytes(), entry, "contexts/schemas/index.json")
            # The shipped schemas are checked by the test suite, not on every start (that
            # would import jsonschema in every process).
            held.append(_hold(entry["url"], data, entry.get("type"), check=False))
        return cls(held)

    @classmethod
    def from_index(cls, path: str | Path, *, include_shipped: bool = True) -> "SchemaStore":
        """The schemas listed by the index file ``path`` (``{"schemas": [{"url", "file",
        "sha256", "type"?}]}``, each file relative to the index's folder; ``path`` may also be
        that folder, holding ``index.json``), plus the shipped ones unless ``include_shipped``
        is false. Every schema is checked now: its SHA-256, its ``$schema`` and ``$id``, and
        that it is a valid schema of its version.

        :raises SchemaStoreError: the index or a schema cannot be used (see the class), or a
            URL is held twice.
        """
        index = Path(path)
        if index.is_dir():
            index = index / "index.json"
        try:
            entries = _read_index(index.read_bytes(), str(index))
        except OSError as e:
            raise SchemaStoreError(f"cannot read {index}: {e.strerror or e}") from None
        held = list(cls.shipped()._schemas.values()) if include_shipped else []
        for entry in entries:
            file = index.parent / entry["file"]
            try:
                data = _pinned(file.read_bytes(), entry, str(index))
            except OSError as e:
                raise SchemaStoreError(f"{index}: cannot read {entry['file']}: {e.strerror or e}") from None
            held.append(_hold(entry["url"], data, entry.get("type"), check=True))
        return cls(held)

    @classmethod
    def from_documents(cls, documents: Mapping[str, Any], *, include_shipped: bool = False) -> "SchemaStore":
        """A store of already-parsed documents (for tests and tools): URL -> a JSON Schema, a
        ``JsonSchemaCredential`` (an object or a compact JWS string). The bytes pinned are their
        compact JSON (the token's text), which is what digests are compared with.

        :raises SchemaStoreError: as :meth:`from_index`.
        """
        held = list(cls.shipped()._schemas.values()) if include_shipped else []
        for url, document in documents.items():
            if isinstance(document, str):
                data = document.encode("utf-8")
            else:
                data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            held.append(_hold(url, data, None, check=True))
        return cls(held)

    @classmethod
    def from_recorded(cls, schemas: Mapping[str, bytes]) -> "SchemaStore":
        """A store of exactly ``schemas`` (URL -> the exact bytes held), such as an evidence
        bundle records, without the shipped ones.

        :raises SchemaStoreError: as :meth:`from_index`.
        """
        return cls([_hold(url, data, None, check=False) for url, data in schemas.items()])

    @property
    def urls(self) -> frozenset[str]:
        """The URLs of the schemas held."""
        return frozenset(self._schemas)

    def __contains__(self, url: object) -> bool:
        return url in self._schemas

    def __len__(self) -> int:
        return len(self._schemas)

    def get(self, url: str) -> HeldSchema | None:
        """The schema held for ``url``, or None."""
        return self._schemas.get(url)

    def resource_bytes(self, url: str) -> bytes | None:
        """The exact bytes held for ``url`` (see :class:`tradevc.vc.checks.integrity.LocalResources`)."""
        held = self._schemas.get(url)
        return None if held is None else held.data

    def validator(self, url: str) -> Any:
        """The compiled ``jsonschema`` validator of the schema held for ``url``; its ``$ref``
        resolve only to held schemas and the bundled meta-schemas.

        :raises KeyError: no schema is held for ``url``.
        :raises UnsupportedError: the schema's version is not supported.
        """
        validator = self._validators.get(url)
        if validator is None:
            from jsonschema.validators import validator_for

            held = self._schemas[url]
            if held.dialect is None:
                raise UnsupportedError(f"{url}: $schema {held.schema.get('$schema')!r} is not a supported version")
            with self._lock:
                validator = self._validators.get(url)
                if validator is None:
                    validator = validator_for(held.schema)(held.schema, registry=self._offline_registry())
                    self._validators[url] = validator
        return validator

    def problems(self, url: str, credential: Mapping[str, Any]) -> list[dict[str, str]]:
        """Validate ``credential`` (without its ``proof``) against the schema held for ``url``:
        each failing path and why (``{"path": "credentialSubject.weight", "message": ...}``),
        at most :data:`MAX_REPORTED_ERRORS`; empty if it conforms.

        :raises KeyError: no schema is held for ``url``.
        :raises UnsupportedError: the schema's version is not supported.
        :raises ResolutionError: the schema refers to a schema the store does not hold.
        :raises InvalidDocument: the credential is nested too deeply, or has a number too large,
            to validate.
        """
        validator = self.validator(url)
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        key = _cache_key(url, unsecured)
        if key is not None:
            with self._lock:
                cached = self._results.get(key)
                if cached is not None:
                    self._results.move_to_end(key)
                    return [dict(p) for p in cached]
        try:
            errors = list(islice(validator.iter_errors(unsecured), MAX_REPORTED_ERRORS))
        except RecursionError:
            raise InvalidDocument("the credential is nested too deeply to validate") from None
        except OverflowError:  # an integer beyond the float range against a fractional multipleOf
            raise InvalidDocument("the credential has a number too large to validate against the schema") from None
        except Exception as e:  # referencing.exceptions.Unresolvable (imported lazily)
            if type(e).__module__.split(".")[0] not in ("referencing", "jsonschema"):
                raise
            raise ResolutionError(f"{url} refers to a schema that is not held (never fetched): {e}") from None
        problems = _describe(errors)
        if key is not None:
            with self._lock:
                self._results[key] = [dict(p) for p in problems]
                if len(self._results) > RESULT_CACHE_SIZE:
                    self._results.popitem(last=False)
        return problems

    def _offline_registry(self) -> Any:
        """Every held schema under its URL (and an embedded schema also under its ``$id``),
        over the meta-schemas ``jsonschema`` bundles; anything else is unresolvable (the
        registry has no way to retrieve). Called with the lock held."""
        if self._registry is None:
            from jsonschema_specifications import REGISTRY as META_SCHEMAS
            from referencing import Resource

            pairs = []
            for held in self._schemas.values():
                resource = Resource.from_contents(held.schema)  # its version from its $schema
                pairs.append((held.url, resource))
                schema_id = held.schema.get("$id")
                if isinstance(schema_id, str) and schema_id != held.url and schema_id not in self._schemas:
                    pairs.append((schema_id, resource))
            self._registry = META_SCHEMAS.with_resources(pairs)
        return self._registry


def shipped_schema_for(credential_type: str) -> str | None:
    """The URL of the shipped schema for a trade credential type (``credentialType`` in
    ``contexts/schemas/index.json``), or None."""
    index = _read_index(
        _resources.files("tradevc.contexts").joinpath("schemas", "index.json").read_bytes(), "contexts/schemas/index.json"
    )
    return next((e["url"] for e in index if e.get("credentialType") == credential_type), None)


_DEFAULT: SchemaStore | None = None


def default_schema_store() -> SchemaStore:
    """The process-wide store of the shipped schemas (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SchemaStore.shipped()
    return _DEFAULT


# -- the check ----------------------------------------------------------------------------------


def check_credential_schemas(
    document: Mapping[str, Any],
    entries: Any,
    schemas: SchemaStore,
    result: VerificationResult,
    *,
    verify_schema_credential: Callable[[Any], VerificationResult],
) -> None:
    """``schema``: one check per ``credentialSchema`` entry of ``document`` (``entries``, already
    checked by the data model: objects with a URL id and a type), as listed in the module
    docstring. ``verify_schema_credential`` verifies a held ``JsonSchemaCredential`` (its
    proof, validity and status); it is called only for that kind. Never raises for bad input."""
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        url = entry["id"]
        try:
            result.add(_check_one(document, entry, index, schemas, verify_schema_credential))
        except VcError as e:  # belt and braces: a held schema the checks did not foresee
            result.add(CheckResult.error(CHECK, e.code, e.message, subject=url))


def _check_one(
    credential: Mapping[str, Any], entry: Mapping[str, Any], index: int, schemas: SchemaStore,
    verify_schema_credential: Callable[[Any], VerificationResult],
) -> CheckResult:
    url = entry["id"]
    types = _types(entry.get("type"))
    kind = JSON_SCHEMA if JSON_SCHEMA in types else JSON_SCHEMA_CREDENTIAL if JSON_SCHEMA_CREDENTIAL in types else None
    if kind is None:
        return CheckResult.skipped(
            CHECK, f"credentialSchema type {entry.get('type')!r} is not supported "
            f"({JSON_SCHEMA}, {JSON_SCHEMA_CREDENTIAL}): {url} was not checked", subject=url,
        )
    held = schemas.get(url)
    if held is None:
        return CheckResult.skipped(
            CHECK, f"{url} is not held by the verifier and is never fetched: the credential was not checked against it",
            subject=url,
        )
    if held.kind != kind:
        return CheckResult.failed(
            CHECK, InvalidDocument.code, f"credentialSchema {url} is a {kind}, but the verifier holds a {held.kind} there",
            subject=url,
        )
    try:
        check_digests(parse_digests(entry, f"credentialSchema[{index}]"), held.data, f"the schema held for {url}")
    except VcError as e:
        return CheckResult.from_error(CHECK, e, subject=url)
    if kind == JSON_SCHEMA_CREDENTIAL:
        refused = _schema_credential_refused(held, verify_schema_credential)
        if refused is not None:
            return refused
    try:
        problems = schemas.problems(url, credential)
    except (UnsupportedError, ResolutionError) as e:  # "Indeterminate"
        return CheckResult.error(CHECK, e.code, e.message, subject=url)
    except InvalidDocument as e:
        return CheckResult.failed(CHECK, SCHEMA_VALIDATION_ERROR, e.message, subject=url)
    if not problems:
        return CheckResult.passed(CHECK, f"conforms to {held.schema.get('title') or url} ({held.dialect})", subject=url)
    shown = "; ".join(f"{p['path']}: {p['message']}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return CheckResult.failed(
        CHECK, SCHEMA_VALIDATION_ERROR, f"the credential does not conform to {url}: {shown}{more}", subject=url,
        data={"schema": url, "paths": list(dict.fromkeys(p["path"] for p in problems)), "errors": problems},
    )


def _schema_credential_refused(
    held: HeldSchema, verify_schema_credential: Callable[[Any], VerificationResult]
) -> CheckResult | None:
    """None if the held JsonSchemaCredential verifies, else the check that says why not."""
    report = verify_schema_credential(held.document)
    if report.verified:
        return None
    bad = report.failures or report.errors
    reason = "; ".join(f"{c.name}: {c.message}" for c in bad[:3]) or "it did not verify"
    message = f"the JsonSchemaCredential {held.url} did not verify: {reason}"
    code = bad[0].code if bad and bad[0].code else "PROOF_VERIFICATION_ERROR"
    if report.could_not_verify:
        return CheckResult.error(CHECK, code, message, subject=held.url)
    return CheckResult.failed(CHECK, code, message, subject=held.url)


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SHAPE_KEYWORDS = frozenset({"type", "const", "enum"})
_COMBINING = frozenset({"anyOf", "oneOf", "allOf", "not", "contains", "if"})


def _leaves(error: Any) -> list[Any]:
    """The errors to report for ``error``: itself, or for an anyOf/oneOf that no alternative
    satisfied, the errors of the alternative the value was meant for (one whose type fits:
    none of its errors is a type, const or enum mismatch of the value itself), the one with the
    fewest errors; the error itself if no alternative fits."""
    if not error.context:
        return [error]
    alternatives: dict[Any, list[Any]] = {}
    for sub in error.context:
        alternatives.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    fitting = [
        subs for subs in alternatives.values()
        if not any(s.validator in _SHAPE_KEYWORDS and not s.relative_path for s in subs)
    ]
    if not fitting:
        return [error]
    return [leaf for sub in min(fitting, key=len) for leaf in _leaves(sub)]


def _describe(errors: list[Any]) -> list[dict[str, str]]:
    """Each error as its failing path and a message (see :func:`_leaves` for anyOf/oneOf);
    duplicates dropped, in the order found."""
    problems: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in (leaf for top in errors for leaf in _leaves(top)):
        parts = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [p for p in error.validator_value if p not in error.instance]
            name = next((p for p in missing if error.message.startswith(repr(p))), missing[0] if missing else None)
            if name is not None:
                parts.append(name)
            message = "required property is missing"
        elif error.validator in _COMBINING and isinstance(error.schema, dict) and error.schema.get("description"):
            message = _short(str(error.schema["description"]))
        elif error.validator in _COMBINING:
            message = "matches none of the allowed forms" if error.validator != "contains" else "no item matches"
        else:
            message = _short(error.message)
        path = _path(parts) or "(the credential)"
        if (path, message) not in seen:
            seen.add((path, message))
            problems.append({"path": path, "message": message})
    return problems
