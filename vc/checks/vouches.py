"""Vouches: credentials in which one party vouches for another, read into one neutral form.

Customs cannot list every mill and exporter in the world. It trusts a few *roots*
(business registers, identifier registrars, accreditation bodies, licensing authorities,
rights holders) and follows the credentials they issue to the parties they vouch for. This
module reads those credentials; it verifies nothing. The verifier's trust paths
verify them like any credential, then build paths from an issuer to a root with the
:class:`Vouch` objects read here.

Four kinds, each a :class:`Vouch` with a :class:`Scope`:

``anchor``
    An identity anchor: a registrar binds registered identifiers (scheme + value: a CBP
    manufacturer ID ``MID``, ``EORI``, ``LEI``, a GS1 company prefix ``GS1``, an importer
    number, a national register number) to the subject's DID, and may name the credential
    types the party may issue. Our ``IdentityAnchorCredential`` (project context
    :data:`TRUST_CONTEXT`) and UN/CEFACT's UNTP ``DigitalIdentityAnchor`` are both read (the
    latter once the user pins UNTP's context: it is not bundled).
``accreditation``
    An accreditation body lets a lab, a chamber of commerce or a certifier issue named
    credential types, optionally for named goods (HS chapters, headings or subheadings).
``licence``
    A licence (the Traceability Vocabulary's ``GS1PrefixLicenseCredential`` and
    ``GS1CompanyPrefixLicenseCredential``) grants the subject a scope (company prefixes,
    goods, territories, types) and may *extend* a parent licence (``extendsCredential``): a
    child is valid only if its issuer is the parent's subject and its scope lies within the
    parent's (:meth:`Scope.within`).
``ip``
    An intellectual-property authorisation (the Traceability Vocabulary's
    ``IntellectualPropertyRightsLicenseCredential``): a rights holder whose mark is recorded
    with CBP authorises a manufacturer or distributor for marks, goods, territories and dates;
    the authorised party may sub-authorise within its own scope, as with licences.

A scope dimension that is ``None`` is unrestricted by this vouch. An empty list is refused
(:class:`VouchError`): it cannot mean "nothing", since JSON-LD drops it and an RDFC proof
does not sign it (whoever holds the vouch could delete it). An empty set (the meet of two
scopes) allows nothing. Codes are compared as given, except HS codes (dots removed, a code is
within a shorter one it starts with) and marks (NFKC, case-folded, spaces collapsed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tradevc.vc.model import parse_datetime

__all__ = [
    "TRUST_CONTEXT",
    "UNTP_DIA_TYPES",
    "ANCHOR_TYPES",
    "ACCREDITATION_TYPES",
    "LICENCE_TYPES",
    "IP_TYPES",
    "VOUCH_TYPES",
    "Kind",
    "RegisteredId",
    "Scope",
    "Vouch",
    "VouchError",
    "read_vouch",
    "vouch_kind",
    "hs_code",
    "mark_key",
]

TRUST_CONTEXT = "https://tradevc.example/contexts/trust/v1"
"""The project context for the terms the Traceability Vocabulary and schema.org lack
(pinned at ``contexts/tradevc-trust-v1.jsonld``; the URL is an identifier, never fetched)."""

Kind = Literal["anchor", "accreditation", "licence", "ip"]

ANCHOR_TYPES = frozenset({"IdentityAnchorCredential"})
UNTP_DIA_TYPES = frozenset({"DigitalIdentityAnchor"})
ACCREDITATION_TYPES = frozenset({"AccreditationCredential"})
LICENCE_TYPES = frozenset({"GS1PrefixLicenseCredential", "GS1CompanyPrefixLicenseCredential"})
IP_TYPES = frozenset({"IntellectualPropertyRightsLicenseCredential"})
VOUCH_TYPES = ANCHOR_TYPES | UNTP_DIA_TYPES | ACCREDITATION_TYPES | LICENCE_TYPES | IP_TYPES

_KINDS: tuple[tuple[frozenset[str], Kind], ...] = (
    (ANCHOR_TYPES | UNTP_DIA_TYPES, "anchor"),
    (ACCREDITATION_TYPES, "accreditation"),
    (LICENCE_TYPES, "licence"),
    (IP_TYPES, "ip"),
)


class VouchError(ValueError):
    """A credential of a vouch type whose subject cannot be read as one (no DID subject, a
    scope member of the wrong shape...). The message names the member."""


@dataclass(frozen=True)
class RegisteredId:
    """One registered identifier: ``scheme`` (``MID``, ``EORI``, ``LEI``, ``GS1``, an IRI for
    a UNTP identifier scheme...) and ``value``."""

    scheme: str
    value: str

    def __str__(self) -> str:
        return f"{self.scheme} {self.value}"


def hs_code(value: str) -> str:
    """An HS/HTS code without its dots and spaces (``"7304.19.1020"`` -> ``"7304191020"``)."""
    return value.replace(".", "").replace(" ", "")


def mark_key(value: str) -> str:
    """A mark as compared: in Unicode's NFKC case-folded form (full-width letters, ligatures
    and decomposed accents read as the plain ones; a look-alike letter of another script
    stays another letter), runs of white space made one space, trimmed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join(folded.split())


def _hs_within(code: str, allowed: frozenset[str]) -> bool:
    """``code`` starts with one of ``allowed`` (dots and spaces left out); an empty code is
    within nothing, and an empty allowed code allows nothing (it is not everything's prefix)."""
    code = hs_code(code)
    return bool(code) and any(hs_code(a) and code.startswith(hs_code(a)) for a in allowed)


def _prefix_within(prefix: str, allowed: frozenset[str]) -> bool:
    """As :func:`_hs_within`, for GS1 prefixes (compared as given)."""
    return bool(prefix) and any(a and prefix.startswith(a) for a in allowed)


@dataclass(frozen=True)
class Scope:
    """What a vouch allows its subject: the credential ``types`` it may issue, the ``goods``
    (HS codes, prefixes of the goods' codes), GS1 ``prefixes``, ``marks``, ``territories``
    (ISO 3166-1 alpha-2), and the period ``valid_from``..``valid_until``. ``None`` = not
    restricted by this vouch."""

    types: frozenset[str] | None = None
    goods: frozenset[str] | None = None
    prefixes: frozenset[str] | None = None
    marks: frozenset[str] | None = None
    territories: frozenset[str] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def narrowed(self, inner: "Scope") -> "Scope":
        """What holds under both this scope and ``inner`` (a root's scope narrowed by the
        anchor it issued): each dimension the more restrictive of the two; for goods and
        prefixes, the codes of one that lie within the other."""
        return Scope(
            types=_meet(self.types, inner.types),
            goods=_meet_codes(self.goods, inner.goods, _hs_within),
            prefixes=_meet_codes(self.prefixes, inner.prefixes, _prefix_within),
            marks=_meet(self.marks, inner.marks),
            territories=_meet(self.territories, inner.territories),
            valid_from=_later(self.valid_from, inner.valid_from),
            valid_until=_earlier(self.valid_until, inner.valid_until),
        )

    def within(self, outer: "Scope") -> list[str]:
        """Why this scope does not lie within ``outer`` (a child licence within its parent's):
        one sentence per dimension that goes beyond it; empty if it lies within. A dimension
        this scope leaves unrestricted lies within ``outer`` only if ``outer`` leaves it
        unrestricted too."""
        problems: list[str] = []
        for name, mine, theirs in (
            ("credential types", self.types, outer.types),
            ("marks", self.marks, outer.marks),
            ("territories", self.territories, outer.territories),
        ):
            if theirs is None:
                continue
            if mine is None:
                problems.append(f"{name}: unrestricted, but the parent allows only {', '.join(sorted(theirs))}")
            elif not mine <= theirs:
                problems.append(f"{name}: {', '.join(sorted(mine - theirs))} not in the parent's {', '.join(sorted(theirs))}")
        for name, codes, allowed, inside in (
            ("goods", self.goods, outer.goods, _hs_within),
            ("company prefixes", self.prefixes, outer.prefixes, _prefix_within),
        ):
            if allowed is None:
                continue
            if codes is None:
                problems.append(f"{name}: unrestricted, but the parent allows only {', '.join(sorted(allowed))}")
                continue
            outside = sorted(c for c in codes if not inside(c, allowed))
            if outside:
                problems.append(f"{name}: {', '.join(outside)} not within the parent's {', '.join(sorted(allowed))}")
        if outer.valid_from is not None and (self.valid_from is None or self.valid_from < outer.valid_from):
            problems.append(f"validity starts before the parent's ({outer.valid_from.isoformat()})")
        if outer.valid_until is not None and (self.valid_until is None or self.valid_until > outer.valid_until):
            problems.append(f"validity ends after the parent's ({outer.valid_until.isoformat()})")
        return problems

    def allows_types(self, types: Iterable[str]) -> bool:
        """A credential's ``type`` values are allowed: every one but ``VerifiableCredential``
        (which every credential carries and no vouch names) is in :attr:`types`, and there is
        at least one such (so a scope naming ``VerifiableCredential`` allows nothing)."""
        if self.types is None:
            return True
        specific = set(types) - {"VerifiableCredential"}
        return bool(specific) and specific <= self.types

    def allows_goods(self, codes: Iterable[str]) -> bool:
        """Every one of ``codes`` lies within :attr:`goods`; under restricted goods, a
        credential that names no goods is not shown to be within them."""
        if self.goods is None:
            return True
        listed = list(codes)
        return bool(listed) and all(_hs_within(c, self.goods) for c in listed)

    def allows_marks(self, marks: Iterable[str]) -> bool:
        return self.marks is None or {mark_key(m) for m in marks} <= self.marks

    def allows_territory(self, country: str) -> bool:
        return self.territories is None or country in self.territories

    def in_force(self, moment: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_until is None or moment <= self.valid_until
        )

    def describe(self) -> str:
        """One line for a report: ``types A, B; goods 72, 73; territories MX, US``."""
        parts = []
        for name, values in (
            ("types", self.types), ("goods", self.goods), ("company prefixes", self.prefixes),
            ("marks", self.marks), ("territories", self.territories),
        ):
            if values is not None:
                parts.append(f"{name} {', '.join(sorted(values)) or '(none)'}")
        return "; ".join(parts) or "unrestricted"


def _meet(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _meet_codes(a: frozenset[str] | None, b: frozenset[str] | None, inside: Any) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return frozenset({c for c in a if inside(c, b)} | {c for c in b if inside(c, a)})


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class Vouch:
    """One vouching credential, read: ``issuer`` vouches for ``subject`` (a DID) within
    ``scope``. ``parent`` is the id of the licence this one extends (licences and IP
    authorisations only). ``scope.valid_from``/``valid_until`` are the credential's own."""

    kind: Kind
    credential_id: str | None
    issuer: str
    subject: str
    scope: Scope
    name: str | None = None
    identifiers: tuple[RegisteredId, ...] = ()
    parent: str | None = None
    types: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """``IdentityAnchorCredential urn:uuid:...`` (the first vouch type, then the id)."""
        kind = next((t for t in self.types if t in VOUCH_TYPES), self.kind)
        return f"{kind} {self.credential_id}" if self.credential_id else kind


def vouch_kind(types: Iterable[str]) -> Kind | None:
    """The kind of vouch a credential with these ``type`` values is, or None."""
    present = set(types)
    for names, kind in _KINDS:
        if present & names:
            return kind
    return None


def read_vouch(credential: Mapping[str, Any]) -> Vouch | None:
    """The :class:`Vouch` a credential (as JSON, already verified by the caller) makes, or
    None if it is not of a vouch type.

    Our subject members (see ``contexts/tradevc-trust-v1.jsonld``): ``id`` (the DID vouched
    for, required), ``name``, ``identifier`` (schema.org ``PropertyValue`` objects:
    ``propertyID`` = scheme, ``value``), ``authorizedCredentialType``, ``hsScope``,
    ``licenseValue`` (GS1 company prefixes), ``mark``, ``territory``, and
    ``extendsCredential`` (the id of the parent licence). Each list member may also be one
    string. A UNTP ``DigitalIdentityAnchor`` is read from ``id`` (or ``identity.id``),
    ``name``, ``registeredId`` and ``idScheme`` (its ``id`` or ``name`` is the scheme).

    :raises VouchError: a vouch type whose subject cannot be read.
    """
    types = _strings(credential.get("type"))
    kind = vouch_kind(types)
    if kind is None:
        return None
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not isinstance(issuer_id, str):
        raise VouchError("issuer: must be a URL or an object with an id")
    subjects = credential.get("credentialSubject")
    if isinstance(subjects, list):
        if len(subjects) != 1:
            raise VouchError("credentialSubject: a vouch names exactly one subject")
        subjects = subjects[0]
    if not isinstance(subjects, Mapping):
        raise VouchError("credentialSubject: must be an object")
    subject: Mapping[str, Any] = subjects
    untp = bool(set(types) & UNTP_DIA_TYPES) and not set(types) & ANCHOR_TYPES
    if untp:
        return _read_untp(credential, types, issuer_id, subject)
    did = subject.get("id")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise VouchError("credentialSubject.id: must be the DID vouched for")
    scope = Scope(
        types=_set(subject, "authorizedCredentialType"),
        goods=_set(subject, "hsScope", check=_HS_SCOPE),
        prefixes=_set(subject, "licenseValue", check=_DIGITS),
        marks=_marks(subject),
        territories=_set(subject, "territory", check=_COUNTRY),
        valid_from=_date(credential, "validFrom"),
        valid_until=_date(credential, "validUntil"),
    )
    parent = subject.get("extendsCredential")
    if parent is not None and not isinstance(parent, str):
        raise VouchError("credentialSubject.extendsCredential: must be the id (a URL) of the parent credential")
    if parent is not None and kind not in ("licence", "ip"):
        raise VouchError(f"credentialSubject.extendsCredential: only licences extend a parent, not an {kind}")
    name = subject.get("name")
    return Vouch(
        kind=kind,
        credential_id=credential.get("id") if isinstance(credential.get("id"), str) else None,
        issuer=issuer_id,
        subject=did,
        scope=scope,
        name=name if isinstance(name, str) else None,
        identifiers=_identifiers(subject),
        parent=parent,
        types=tuple(types),
    )


def _read_untp(credential: Mapping[str, Any], types: list[str], issuer: str, subject: Mapping[str, Any]) -> Vouch:
    identity = subject.get("identity")
    holder: Mapping[str, Any] = identity if isinstance(identity, Mapping) else subject
    did = holder.get("id") if isinstance(holder.get("id"), str) else subject.get("id")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise VouchError("credentialSubject.id: a DigitalIdentityAnchor must name the DID it anchors")
    registered = holder.get("registeredId", subject.get("registeredId"))
    scheme_node = holder.get("idScheme", subject.get("idScheme"))
    scheme = None
    if isinstance(scheme_node, Mapping):
        scheme = scheme_node.get("id") if isinstance(scheme_node.get("id"), str) else scheme_node.get("name")
    elif isinstance(scheme_node, str):
        scheme = scheme_node
    identifiers: tuple[RegisteredId, ...] = ()
    if isinstance(registered, str) and registered.strip():
        if not isinstance(scheme, str) or not scheme.strip():
            raise VouchError("credentialSubject.idScheme: a registeredId needs its identifier scheme")
        identifiers = (RegisteredId(scheme, registered),)
    name = holder.get("name", subject.get("name"))
    return Vouch(
        kind="anchor",
        credential_id=credential.get("id") if isinstance(credential.get("id"), str) else None,
        issuer=issuer,
        subject=did,
        scope=Scope(valid_from=_date(credential, "validFrom"), valid_until=_date(credential, "validUntil")),
        name=name if isinstance(name, str) else None,
        identifiers=identifiers,
        types=tuple(types),
    )


_HS_SCOPE = re.compile(r"[0-9]{2}(?:[0-9.]{0,11})")
_DIGITS = re.compile(r"[0-9]{1,13}")
_COUNTRY = re.compile(r"[A-Z]{2}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _set(subject: Mapping[str, Any], member: str, *, check: re.Pattern[str] | None = None) -> frozenset[str] | None:
    if member not in subject:
        return None
    value = subject[member]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise VouchError(f"credentialSubject.{member}: must be a string or a list of non-empty strings")
    if not values:  # JSON-LD drops it: an RDFC proof does not sign it, and deleting it would unrestrict
        raise VouchError(f"credentialSubject.{member}: must not be empty (an empty list is not signed by an "
                         "RDFC proof; omit the member for no restriction)")
    if check is not None:
        bad = [v for v in values if not check.fullmatch(v)]
        if bad:
            raise VouchError(f"credentialSubject.{member}: {bad[0]!r} is not a valid value")
    return frozenset(values)


def _marks(subject: Mapping[str, Any]) -> frozenset[str] | None:
    marks = _set(subject, "mark")
    return None if marks is None else frozenset(mark_key(m) for m in marks)


def _identifiers(subject: Mapping[str, Any]) -> tuple[RegisteredId, ...]:
    value = subject.get("identifier")
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise VouchError(f"credentialSubject.identifier[{i}]: must be a PropertyValue with propertyID and value")
        scheme, val = item.get("propertyID"), item.get("value")
        if not isinstance(scheme, str) or not scheme or not isinstance(val, str) or not val:
            raise VouchError(f"credentialSubject.identifier[{i}]: needs a propertyID (the scheme) and a value")
        found.append(RegisteredId(scheme, val))
    return tuple(found)


def _date(credential: Mapping[str, Any], member: str) -> datetime | None:
    value = credential.get(member)
    if value is None:
        legacy = {"validFrom": "issuanceDate", "validUntil": "expirationDate"}[member]
        value = credential.get(legacy)
        if value is None:
            return None
    try:
        return parse_datetime(value, field=member)
    except ValueError as e:
        raise VouchError(f"{member}: {e}") from None
