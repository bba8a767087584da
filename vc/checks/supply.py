"""Supply-path facts: what a mill test report or a transformation event says about heats,
lots and weights, read into one neutral form. It verifies nothing.

The verifier's supply-path walker (:mod:`tradevc.verifier.supply`) verifies each credential
of a chain of custody, then reads it here; the issuing desk uses the same functions to point
a credential at its inputs (``vc-issuer issue --derived-from``), so that what the issuer
digests is what the border checks.

What is read
------------
``MillTestReportCredential`` (Traceability Vocabulary, subject ``Purchase``)
    each ``product`` (a ``SteelProduct``) is an :class:`Item`: ``identifier``,
    ``heatNumber``, ``originalCountryOfMeltAndPour`` (the country where the heat was first
    made liquid and cast), ``weight`` with ``weightUnit`` and, for a report that restates
    another's heat, ``sourceCredential``.
``TransformationEventCredential`` (project context :data:`TRADE_CONTEXT`, subject
``TransformationEvent``)
    a facility (``place.address.addressCountry``) and an ``organization`` turned
    ``consumedProducts`` (inputs: heats, coils, lots, each with the ``sourceCredential`` it
    comes from) into ``newProducts`` (outputs: lots with a ``commodity`` code) at
    ``eventTime``, within a declared ``yieldTolerance`` (a fraction: ``"0.02"`` lets the
    outputs weigh up to 2 % more than the inputs, for the scales' error).

``USMCACertificationOfOrigin`` and ``SIMASteelImportLicenseCredential``
    :func:`read_coverage` reads their kind (``certificationKind``: single shipment or
    blanket; ``licenseKind``: standard or low value) and goods with their quantities
    (``declaredQuantity``; a licence's ``product.weight``) for the entry rules.

Weights are ``weight`` (a JSON number or a decimal numeral string; a string keeps every
digit, a JSON number may be read as a double by JSON-LD) in ``weightUnit``: UN/ECE
Recommendation 20 codes ``KGM`` (kilogram), ``TNE`` (metric ton), ``LBR`` (pound) or ``STN``
(short ton, 2000 lb). :func:`to_kg` converts exactly.

Why the event has its own terms: the vocabulary's ``TransformEvent`` maps both
``consumedProducts`` and ``newProducts`` to one IRI (``hashlink#hl-url-params``), so under an
RDF canonicalization proof (``eddsa-rdfc-2022``) inputs and outputs could be swapped without
breaking the signature. :data:`TRADE_CONTEXT` gives them distinct IRIs.

Digests of related credentials
------------------------------
VC Data Model 2.0 section 5.3 (*Integrity of Related Resources*) asks a verifier that uses a
``relatedResource`` to compute the digest of the resource it has and compare it with the
issuer's. A credential is not a web page: a JSON credential travels as a JSON value (in a
presentation, a wallet, re-indented by any tool), and only a ``vc+jwt`` travels as fixed
bytes. So the digest of a credential is taken over :func:`credential_bytes`: for a JSON
credential, its JSON Canonicalization Scheme form (RFC 8785, the form the ``*-jcs-*`` Data
Integrity suites sign), which any holder can recompute from the value it holds; for a
``vc+jwt``, the ASCII bytes of the compact token. :func:`related_resource` writes the entry:
``id``, ``mediaType`` (``application/vc`` or ``application/vc+jwt``) and ``digestSRI`` with
SHA-384 (the minimum the Recommendation advises). :func:`digest_matches` also accepts a digest
of the exact bytes a verifier holds (a file, as another issuer may have digested it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import rfc8785

from tradevc.vc.digests import Digest, digest_sri, parse_digests
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.fastpath import fast_jcs

__all__ = [
    "TRADE_CONTEXT",
    "MILL_TEST_REPORT",
    "TRANSFORMATION_EVENT",
    "TRANSFORMATION_EVENT_SUBJECT",
    "MASS_UNITS",
    "to_kg",
    "KG_PER_UNIT",
    "parse_weight",
    "Item",
    "SupplyFacts",
    "SupplyError",
    "read_supply_facts",
    "Good",
    "Coverage",
    "read_coverage",
    "upstream_references",
    "Reference",
    "credential_bytes",
    "related_resource",
    "digest_matches",
]

TRADE_CONTEXT = "https://tradevc.example/contexts/trade/v1"
"""The project context of the supply-path terms (``contexts/tradevc-trade-v1.jsonld``,
``@protected``): it comes after ``https://w3id.org/traceability/v1``."""

MILL_TEST_REPORT = "MillTestReportCredential"
TRANSFORMATION_EVENT = "TransformationEventCredential"
TRANSFORMATION_EVENT_SUBJECT = "TransformationEvent"

# UN/ECE Recommendation 20 unit codes -> kilograms, exactly.
_POUND = Decimal("0.45359237")  # the international pound (1959), exact
KG_PER_UNIT: dict[str, Decimal] = {
    "KGM": Decimal(1),
    "TNE": Decimal(1000),
    "LBR": _POUND,
    "STN": Decimal("907.18474"),  # the short ton ("net ton"), 2000 lb
    "LTN": Decimal("1016.0469088"),  # the long ton, 2240 lb
    "GRM": Decimal("0.001"),
}
"""Mass units (UN/ECE Recommendation 20 codes) and their value in kilograms, exact: the one
table of factors the supply path, the ledger and the entry declaration convert with."""

MASS_UNITS: dict[str, Decimal] = {code: KG_PER_UNIT[code] for code in ("KGM", "TNE", "LBR", "STN")}
"""The mass units a credential's weight may be given in, and their value in kilograms, exact."""

_DECIMAL = re.compile(r"\s*\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


class SupplyError(ValueError):
    """A weight, unit or reference that cannot be read."""


def to_kg(value: Decimal | int | str, unit: str) -> Decimal:
    """``value`` in ``unit`` (``KGM``, ``TNE``, ``LBR``, ``STN``) as kilograms, exactly
    (Decimal arithmetic, no rounding beyond Decimal's 28 significant digits).

    >>> to_kg("1.5", "TNE")
    Decimal('1500.0')
    >>> to_kg(2, "STN")
    Decimal('1814.36948')

    :raises SupplyError: an unknown unit or a value that is not a decimal number.
    """
    factor = MASS_UNITS.get(unit) if isinstance(unit, str) else None
    if factor is None:
        raise SupplyError(f"weightUnit must be one of {', '.join(MASS_UNITS)} (UN/ECE Rec. 20), got {unit!r}")
    return parse_weight(value) * factor


def parse_weight(value: Any) -> Decimal:
    """A weight: a JSON number or a decimal numeral string, non-negative and finite.

    :raises SupplyError: anything else.
    """
    if isinstance(value, bool):
        raise SupplyError(f"a weight must be a number or a decimal numeral string, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only numerals
            raise SupplyError(f"a weight must be a decimal number, got {value!r}") from None
    else:
        raise SupplyError(f"a weight must be a number or a decimal numeral string, got {value!r}")
    if not number.is_finite() or number < 0:
        raise SupplyError(f"a weight must be a finite non-negative number, got {value!r}")
    return number


@dataclass(frozen=True)
class Item:
    """One heat, coil or lot named by a credential: a mill test report's ``product``, or an
    event's consumed or new product. ``pointer`` is its JSON Pointer in the credential."""

    pointer: str
    identifier: str | None
    heat_number: str | None
    melt_country: str | None
    weight_kg: Decimal | None
    source_credential: str | None
    commodity_code: str | None = None


@dataclass(frozen=True)
class SupplyFacts:
    """What one credential says about the supply path. ``kind`` is ``mill-test-report``,
    ``transformation-event`` or ``other``. For a report, ``products`` are its products; for
    an event, ``consumed`` and ``produced``. ``problems`` lists what could not be read (a
    weight without a unit...), each as ``pointer: message``."""

    kind: Literal["mill-test-report", "transformation-event", "other"]
    products: tuple[Item, ...] = ()
    consumed: tuple[Item, ...] = ()
    produced: tuple[Item, ...] = ()
    country: str | None = None
    organization: str | None = None
    event_time: str | None = None
    yield_tolerance: Decimal | None = None
    problems: tuple[str, ...] = ()


def _types(value: Any) -> list[str]:
    types = value if isinstance(value, list) else [value]
    return [t for t in types if isinstance(t, str)]


def _subjects(credential: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        return [(f"/credentialSubject/{i}", s) for i, s in enumerate(subject) if isinstance(s, Mapping)]
    return [("/credentialSubject", subject)] if isinstance(subject, Mapping) else []


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _item(node: Any, pointer: str, problems: list[str]) -> Item | None:
    if not isinstance(node, Mapping):
        problems.append(f"{pointer}: must be a JSON object")
        return None
    weight_kg = None
    if "weight" in node or "weightUnit" in node:
        try:
            weight_kg = to_kg(node.get("weight"), node.get("weightUnit"))  # type: ignore[arg-type]
        except SupplyError as e:
            problems.append(f"{pointer}: {e}")
    commodity = node.get("commodity")
    code = _text(commodity.get("commodityCode")) if isinstance(commodity, Mapping) else None
    country = _text(node.get("originalCountryOfMeltAndPour"))
    return Item(
        pointer=pointer,
        identifier=_text(node.get("identifier")),
        heat_number=_text(node.get("heatNumber")),
        melt_country=country,
        weight_kg=weight_kg,
        source_credential=_text(node.get("sourceCredential")),
        commodity_code=code,
    )


def _items(value: Any, pointer: str, problems: list[str]) -> tuple[Item, ...]:
    if isinstance(value, list):
        found = [_item(v, f"{pointer}/{i}", problems) for i, v in enumerate(value)]
    else:
        found = [_item(value, pointer, problems)] if value is not None else []
    return tuple(i for i in found if i is not None)


def read_supply_facts(credential: Mapping[str, Any]) -> SupplyFacts:
    """Read what ``credential`` (a credential as JSON, already verified or not) says about
    the supply path; ``kind="other"`` for credentials of any other type. Never raises for
    malformed content: what cannot be read is listed in ``problems``."""
    types = _types(credential.get("type"))
    problems: list[str] = []
    if TRANSFORMATION_EVENT in types:
        consumed: list[Item] = []
        produced: list[Item] = []
        country = organization = event_time = None
        tolerance = None
        for pointer, subject in _subjects(credential):
            consumed.extend(_items(subject.get("consumedProducts"), f"{pointer}/consumedProducts", problems))
            produced.extend(_items(subject.get("newProducts"), f"{pointer}/newProducts", problems))
            place = subject.get("place")
            address = place.get("address") if isinstance(place, Mapping) else None
            country = country or (_text(address.get("addressCountry")) if isinstance(address, Mapping) else None)
            org = subject.get("organization")
            organization = organization or (
                _text(org.get("id")) or _text(org.get("name")) if isinstance(org, Mapping) else _text(org)
            )
            event_time = event_time or _text(subject.get("eventTime"))
            if "yieldTolerance" in subject:
                try:
                    tolerance = parse_weight(subject["yieldTolerance"])
                except SupplyError:
                    problems.append(
                        f"{pointer}/yieldTolerance: must be a non-negative decimal fraction, got {subject['yieldTolerance']!r}"
                    )
        return SupplyFacts(
            "transformation-event", consumed=tuple(consumed), produced=tuple(produced), country=country,
            organization=organization, event_time=event_time, yield_tolerance=tolerance, problems=tuple(problems),
        )
    if MILL_TEST_REPORT in types:
        products: list[Item] = []
        country = None
        for pointer, subject in _subjects(credential):
            products.extend(_items(subject.get("product"), f"{pointer}/product", problems))
            manufacturer = subject.get("manufacturer")
            location = manufacturer.get("location") if isinstance(manufacturer, Mapping) else None
            address = location.get("address") if isinstance(location, Mapping) else None
            country = country or (_text(address.get("addressCountry")) if isinstance(address, Mapping) else None)
        return SupplyFacts("mill-test-report", products=tuple(products), country=country, problems=tuple(problems))
    return SupplyFacts("other")


@dataclass(frozen=True)
class Good:
    """A good a certification of origin or a licence covers, as the entry rules compare it with
    an entry line: its commodity code, its quantity (``quantity`` in ``unit``; ``weight_kg``
    when the unit is a mass), and for a SIMA licence the country of melt and pour it states."""

    pointer: str
    commodity_code: str | None
    quantity: Decimal | None
    unit: str | None
    weight_kg: Decimal | None
    melt_country: str | None = None


@dataclass(frozen=True)
class Coverage:
    """What a USMCA certification or a SIMA licence covers: its ``kind``
    (``SingleShipment``/``Blanket`` or ``Standard``/``LowValue``, None if not stated) and its goods."""

    kind: str | None
    goods: tuple[Good, ...]
    problems: tuple[str, ...] = ()


def _quantity(node: Any, pointer: str, problems: list[str]) -> tuple[Decimal | None, str | None, Decimal | None]:
    if not isinstance(node, Mapping):
        return None, None, None
    unit = node.get("unitCode")
    try:
        value = parse_weight(node.get("value"))
    except SupplyError as e:
        problems.append(f"{pointer}: {e}")
        return None, unit if isinstance(unit, str) else None, None
    kg = value * MASS_UNITS[unit] if isinstance(unit, str) and unit in MASS_UNITS else None
    return value, unit if isinstance(unit, str) else None, kg


def read_coverage(credential: Mapping[str, Any]) -> Coverage | None:
    """The goods and kind of a ``USMCACertificationOfOrigin`` (``goods`` with their
    ``declaredQuantity``, ``certificationKind``) or a ``SIMASteelImportLicenseCredential``
    (``productInformation`` with each product's ``weight`` and ``countryOfMeltAndPour``,
    ``licenseKind``); None for other types. Never raises: what cannot be read is in ``problems``."""
    types = _types(credential.get("type"))
    problems: list[str] = []
    goods: list[Good] = []
    kind: str | None = None
    if "USMCACertificationOfOrigin" in types:
        for pointer, subject in _subjects(credential):
            kind = kind or _text(subject.get("certificationKind"))
            for i, good in enumerate(_list(subject.get("goods"))):
                if not isinstance(good, Mapping):
                    continue
                where = f"{pointer}/goods/{i}"
                value, unit, kg = _quantity(good.get("declaredQuantity"), f"{where}/declaredQuantity", problems)
                goods.append(Good(where, _text(good.get("commodityCode")), value, unit, kg))
        return Coverage(kind, tuple(goods), tuple(problems))
    if "SIMASteelImportLicenseCredential" in types:
        for pointer, subject in _subjects(credential):
            kind = kind or _text(subject.get("licenseKind"))
            info = subject.get("productInformation")
            entries: list[tuple[str, Any]] = (
                [(f"/{i}", spec) for i, spec in enumerate(info)] if isinstance(info, list) else [("", info)]
            )
            for suffix, spec in entries:
                if not isinstance(spec, Mapping):
                    continue
                where = f"{pointer}/productInformation{suffix}"
                found = spec.get("product")
                product: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
                commodity = product.get("commodity")
                code = _text(commodity.get("commodityCode")) if isinstance(commodity, Mapping) else None
                value, unit, kg = _quantity(product.get("weight"), f"{where}/product/weight", problems)
                goods.append(Good(where, code, value, unit, kg, _text(spec.get("countryOfMeltAndPour"))))
        return Coverage(kind, tuple(goods), tuple(problems))
    return None


@dataclass(frozen=True)
class Reference:
    """A link from a credential to one it derives from: the upstream ``credential_id``, the
    digests its ``relatedResource`` entry gives (empty if it is only named by an item's
    ``sourceCredential``), and where it is written (a JSON Pointer)."""

    credential_id: str
    digests: tuple[Digest, ...]
    pointer: str
    declared: bool = True
    """The link is surely to a credential: its ``mediaType`` says so, or an item names it as
    its ``sourceCredential``. An entry without ``mediaType`` might pin an image or a document;
    a walker follows it only if it holds a credential of that id."""


def upstream_references(
    credential: Mapping[str, Any], *, facts: SupplyFacts | None = None,
) -> tuple[list[Reference], list[str]]:
    """The credentials ``credential`` derives from, each once, in order: its
    ``relatedResource`` entries (only those whose ``mediaType``, if given, is a credential's:
    ``application/vc``, ``application/vc+jwt``, ``application/vc+ld+json``; without one, not
    its own contexts or schema, and :attr:`Reference.declared` is false unless an item names
    it), then the ``sourceCredential`` of its items not listed there. Returns the references
    and the problems found (a malformed digest: that entry is left out). ``facts``: what
    :func:`read_supply_facts` read from ``credential``, if the caller has it already."""
    references: dict[str, Reference] = {}
    problems: list[str] = []
    related = credential.get("relatedResource")
    for index, entry in enumerate(_list(related)):
        pointer = f"/relatedResource/{index}" if isinstance(related, list) else "/relatedResource"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        media = entry.get("mediaType")
        if media is not None and media not in _CREDENTIAL_MEDIA_TYPES:
            continue  # a context, a schema, an image: the pipeline's related_resource check
        try:
            digests = tuple(parse_digests(entry, pointer))
        except InvalidDocument as e:
            problems.append(f"{pointer}: {e.message}")
            continue
        if _looks_like_a_credential_link(entry["id"], media, credential):
            references.setdefault(entry["id"], Reference(entry["id"], digests, pointer, declared=media is not None))
    if facts is None:
        facts = read_supply_facts(credential)
    for item in facts.products + facts.consumed:
        source = item.source_credential
        if not source:
            continue
        known = references.get(source)
        if known is None:
            references[source] = Reference(source, (), item.pointer + "/sourceCredential")
        elif not known.declared:
            references[source] = Reference(source, known.digests, known.pointer)
    return list(references.values()), problems


_CREDENTIAL_MEDIA_TYPES = frozenset({"application/vc", "application/vc+jwt", "application/vc+ld+json"})


def _looks_like_a_credential_link(url: str, media: Any, credential: Mapping[str, Any]) -> bool:
    """A relatedResource entry without a mediaType links a credential unless it names one of
    the credential's own contexts or its schema (those are the pipeline's)."""
    if media is not None:
        return True
    contexts = credential.get("@context")
    if url in _list(contexts):
        return False
    return all(not (isinstance(s, Mapping) and s.get("id") == url) for s in _list(credential.get("credentialSchema")))


def credential_bytes(credential: Mapping[str, Any] | str) -> bytes:
    """The bytes a credential's digest is taken over: a JSON credential's RFC 8785 (JCS)
    serialization, or the ASCII bytes of a ``vc+jwt`` compact token (see the module docstring).

    :raises InvalidDocument: a JSON value JCS cannot serialize (a float out of range...).
    """
    if isinstance(credential, str):
        return credential.strip().encode("ascii", errors="replace")
    fast = fast_jcs(credential)  # the same bytes, in C, for plain JSON values (most credentials)
    if fast is not None:
        return fast
    try:
        data: bytes = rfc8785.dumps(credential)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as e:
        raise InvalidDocument(f"the credential cannot be serialized with JCS (RFC 8785): {e}") from None
    return data


def related_resource(credential_id: str, credential: Mapping[str, Any] | str) -> dict[str, Any]:
    """The ``relatedResource`` entry that pins ``credential`` (a JSON credential, or a
    ``vc+jwt`` compact token) under ``credential_id``: ``id``, ``mediaType`` and a SHA-384
    ``digestSRI`` of :func:`credential_bytes`.

    :raises InvalidDocument: as :func:`credential_bytes`.
    """
    media = "application/vc+jwt" if isinstance(credential, str) else "application/vc"
    return {"id": credential_id, "mediaType": media, "digestSRI": digest_sri(credential_bytes(credential), "sha384")}


def digest_matches(digests: Iterable[Digest], credential: Mapping[str, Any] | str, *, exact: bytes | None = None) -> bool:
    """Whether every digest matches ``credential``: its :func:`credential_bytes`, or the
    ``exact`` bytes the verifier holds for it (a file as it was digested), either one for all
    of them. False for no digests."""
    listed = list(digests)
    if not listed:
        return False
    candidates: list[bytes] = []
    try:
        candidates.append(credential_bytes(credential))
    except InvalidDocument:
        pass
    if exact is not None:
        candidates.append(exact)
    return any(all(d.matches(data) for d in listed) for data in candidates)
