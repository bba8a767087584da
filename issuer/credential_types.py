"""The trade credential types the issuer knows, and the checks a credential passes before signing.

Four trade types, each a W3C CCG Traceability Vocabulary credential type (context
``https://w3id.org/traceability/v1``, pinned at ``contexts/traceability-v1.jsonld``):

* ``USMCACertificationOfOrigin``, subject ``USMCAClaims``: validUntil required, and the blanket
  period validFrom..validUntil is at most 12 months;
* ``MillTestReportCredential``, subject ``Purchase`` (see below);
* ``SIMASteelImportLicenseCredential``, subject ``SIMASteelImportLicense``: validUntil required;
* ``CommercialInvoiceCredential``, subject ``Invoice``;

and the supply path's ``TransformationEventCredential`` (short name ``TransformationEvent``),
subject ``TransformationEvent``, in the project context ``TRADE_CONTEXT`` (see *Terms the
vocabulary lacks*).

and the customs power of attorney, the vocabulary's ``PowerOfAttorneyCredential`` (short name
``PowerOfAttorney``; see *Customs power of attorney* below).

And five types that say who the parties are, in which one party vouches for another (see
*Vouches* below): ``IdentityAnchorCredential``, ``AccreditationCredential``,
``GS1PrefixLicenseCredential``, ``GS1CompanyPrefixLicenseCredential`` and
``IntellectualPropertyRightsLicenseCredential``.

:func:`check_credential` checks a credential of one of these types and raises one
:class:`~tradevc.vc.errors.InvalidDocument` listing every missing or malformed field with its JSON path
(``credentialSubject.goods[0].commodityCode: must be a 6-digit HS code ...``). Credentials of any
other type pass through unchanged: they get only the VC data model checks that signing runs.
:func:`build_credential` assembles an unsigned credential around a subject and checks it.

Property names are the vocabulary's
-----------------------------------
The traceability context mostly uses *type-scoped* contexts: a term such as ``commodityCode`` is
defined only inside an object whose ``type`` is ``USMCAProduct`` (or ``Commodity``), and JSON-LD
type-scoped contexts do not propagate into nested objects. Anything the context does not define
falls to its ``@vocab``, ``https://www.w3.org/ns/credentials/issuer-dependent#``: it is signed, but
means nothing outside the issuer. So the models below use the vocabulary's own terms, and every
nested object must carry the ``type`` under which its terms are defined (the checks name the
type when it is missing). The shapes:

* parties (exporter, producer, importer, customer, seller, buyer, manufacturer) are
  ``Organization`` objects with ``name`` and ``location`` (a ``Place``) whose ``address`` is a
  ``PostalAddress``. The vocabulary's ``Organization`` has no ``address`` term (only ``Entity``,
  ``Place`` and ``Customer`` do), so ``Organization.address`` - the shape of
  ``bench/usmca-certification-of-origin.json`` - would fall to the issuer-dependent vocabulary.
* ``USMCACertificationOfOrigin``: ``USMCAClaims`` with ``exporterDetails``, ``producerDetails``,
  ``importerDetails`` (an object or a list), ``goods`` (``USMCAProduct``: ``description``,
  ``commodityCode``, ``commodityCodeType``, ``originCriterion``, ``countryOfOrigin``) and the
  certifier: a ``USMCACertifier`` (``role``, ``certifierDetails``), whose details are a
  ``ContactPoint`` (``name``, ``jobTitle`` for the certifier's title, ``phoneNumber``, ``email``,
  ``place.address``).
* ``MillTestReportCredential``: this version of the vocabulary has no ``MillTestReport`` subject
  type; its mill-test-report terms are those of ``Purchase`` (``customer``,
  ``internalCertificateNo``, ``purchaseOrderNo``, ``invoiceNo``) and the top-level ``product``
  (a ``SteelProduct``: ``identifier``, ``heatNumber``, ``specification``, ``grade``,
  ``originalCountryOfMeltAndPour``, ``weight``, ``weightUnit``, ``commodity``, ``inspection``)
  plus the top-level ``manufacturingCountry`` and ``manufacturer``. ``heatNumber``,
  ``originalCountryOfMeltAndPour`` (where the heat was first made liquid and cast), ``weight``
  (positive; a decimal string keeps every digit) and ``weightUnit`` (``KGM``, ``TNE``, ``LBR``,
  ``STN``) are required: the border's supply-path walk takes a heat's melt country and weight
  from the melt shop's report. A finishing mill's report that restates a heat names the
  credential it comes from in ``sourceCredential``. Each ``product`` entry is one inspected item or
  heat, whose ``inspection`` is an ``InspectionReport`` with ``chemicalObservation`` and
  ``mechanicalObservation`` lists of ``Observation`` objects (``name``; ``property``: a
  ``ChemicalProperty`` with ``formula``, or a ``MechanicalProperty`` with ``name``;
  ``measurement``: a ``MeasuredValue`` with ``value`` and ``unitCode``). The observation's
  ``name`` is required so that RDF canonicalization can tell observations apart cheaply (see
  ``_Observation``).
* ``SIMASteelImportLicenseCredential``: ``SIMASteelImportLicense`` with ``licenseNumber``,
  ``importer``, ``exporter``, ``manufacturer``, ``countryOfOrigin``, ``countryOfExportation`` and
  ``productInformation``: ``SIMASteelImportProductSpecifier`` objects with
  ``countryOfMeltAndPour`` and ``customsValue`` (a ``MonetaryAmount`` in USD). The specifier
  type defines no term for the commodity code or the weight, so those sit in its ``product``
  (a ``SteelProduct``: ``commodity`` with the HTS ``commodityCode``, ``weight`` in ``KGM``).
* ``CommercialInvoiceCredential``: ``Invoice`` (the vocabulary has no ``CommercialInvoice``
  subject type) with ``invoiceNumber``, ``seller``, ``buyer``, ``itemsShipped``
  (``TradeLineItem``: ``description``, ``itemCount``, ``priceSpecification``) and
  ``totalPaymentDue`` (a ``PriceSpecification``: ``price``, ``priceCurrency``).

Terms the vocabulary lacks
--------------------------
The vocabulary defines the ``USMCACertifier`` type but no property that links a
``USMCAClaims`` subject to it, so the certifier sits under ``certifier`` (an issuer-dependent
term). The supply path's terms are in the project context ``TRADE_CONTEXT``
(``https://tradevc.example/contexts/trade/v1``, pinned at ``contexts/tradevc-trade-v1.jsonld``,
``@protected``, after the traceability context; :func:`build_credential` adds it when a subject
uses them, and :func:`check_credential` requires it then):

* ``TransformationEventCredential`` / ``TransformationEvent``: ``place`` (a ``Place``: the
  facility, its country in ``address.addressCountry``), ``organization`` (an ``Organization``),
  ``eventTime``, ``consumedProducts`` (``SteelProduct`` items: ``heatNumber`` or
  ``identifier``, ``weight``, ``weightUnit`` and the ``sourceCredential`` they come from),
  ``newProducts`` (``identifier``, ``commodity``, ``weight``, ``weightUnit``) and an optional
  ``yieldTolerance`` (a fraction); outputs may not outweigh inputs times 1 + tolerance. The
  vocabulary's own ``TransformEvent`` maps consumedProducts and newProducts to one IRI, so an
  RDF canonicalization proof could not tell them apart: hence our type.
* ``sourceCredential`` (an item's source credential id), ``declaredQuantity`` (a USMCA good's
  ``QuantitativeValue``), ``certificationKind`` (USMCA: ``SingleShipment`` or ``Blanket``) and
  ``licenseKind`` (SIMA: ``Standard`` for one entry, ``LowValue`` for several).

:func:`derived_from_entries` makes the ``relatedResource`` entries that pin the credentials a
new one derives from (``vc-issuer issue --derived-from``). Everything else the examples in ``issuer/examples`` use is defined by the contexts
(``tests/unit/test_credential_types.py`` checks this after JSON-LD expansion).

Customs power of attorney
-------------------------
The vocabulary's ``PowerOfAttorneyCredential`` has the principal as issuer and the agent as
subject (an ``Organization``) and no further terms; what customs needs (19 CFR 141 Subpart C)
is in ``TRADE_CONTEXT``. The issuer is the importer of record; the subject's ``id`` is the
broker's DID, with ``filerCode`` (three letters or digits) and/or ``brokerLicenseNumber``;
``principal`` (an ``Organization``: ``name``, ``importerNumber`` in the IOR format below, and
optionally ``id``, which must be the issuer's DID); ``scope``, a non-empty list of
:data:`DELEGATION_SCOPES` (``customs-business`` or ``customs-entry`` cover making entry:
:data:`ENTRY_SCOPES`); optional ``portOfEntry`` (four-digit CBP port codes). validUntil is
required: a power must end, and the importer may revoke it sooner (19 CFR 141.46), so it
keeps the status entry every issued credential gets.

Vouches: identity anchors, accreditations, licences
---------------------------------------------------
Customs trusts a few roots (registrars, accreditation bodies, licensing authorities, rights
holders) and follows the credentials they issue to the parties they vouch for; the verifier
reads them with :func:`tradevc.vc.checks.vouches.read_vouch`. Their terms come from the
project context ``https://tradevc.example/contexts/trust/v1`` (``TRUST_CONTEXT``, pinned at
``contexts/tradevc-trust-v1.jsonld``) and schema.org, so these credentials carry
``[VC 2.0, TRUST_CONTEXT]`` (the traceability context, where a credential also needs it,
must come *before* the trust context, which is ``@protected``: traceability-v1 redefines
some of its terms). Every subject has ``id`` (the DID vouched for), ``name``, and optionally
``identifier``, ``authorizedCredentialType`` (the credential types the party may issue),
``hsScope`` (HS chapters, headings or subheadings: ``72``, ``7304``, ``730419``/``7304.19``)
and ``territory`` (ISO 3166-1 alpha-2 codes); each list member may also be one value, and
a list must not be empty (leave the member out for no restriction).

* ``IdentityAnchorCredential``, subject ``RegisteredParty``: a registrar binds registered
  identifiers to the DID. ``identifier`` is required: schema.org ``PropertyValue`` objects,
  ``propertyID`` the scheme and ``value`` the identifier. The schemes ``MID`` (CBP
  manufacturer ID, constructed per 19 CFR Part 102, Appendix: country, name, address
  number, city; at most 15 characters; Canada by province code, never ``CA``), ``EORI``,
  ``LEI`` (ISO 17442, its ISO 7064 MOD 97-10 check digits verified), ``GS1`` (a company
  prefix, 4 to 12 digits) and ``IOR`` (CBP importer number: ``NN-NNNNNNN[XX]`` or
  ``YYDDPP-NNNNN``) are checked and spelled exactly so; any other scheme is free text.
  validUntil is required: an anchor must expire.
* ``AccreditationCredential``, subject ``AccreditedBody``: ``authorizedCredentialType``
  required; validUntil required.
* ``GS1PrefixLicenseCredential``, subject ``Licensee``: ``licenseValue``, the GS1 prefixes
  (1 to 12 digits); ``GS1CompanyPrefixLicenseCredential``, subject ``Licensee``: company
  prefixes (4 to 12 digits) and ``extendsCredential``, required, the id (an absolute URL or
  URN) of the issuer's own prefix licence it is granted under.
* ``IntellectualPropertyRightsLicenseCredential``, subject ``Licensee``: ``mark`` (the
  recorded marks, required), ``recordationNumber`` (CBP's, ``TMK 11-00163``), and
  ``extendsCredential`` for a sub-authorisation.

Besides its model and its shipped JSON Schema, a vouch must carry the trust context, must
not name its issuer as its subject, and must be read by ``read_vouch`` without a
:class:`~tradevc.vc.checks.vouches.VouchError` (its message joins the others): what the
registrar signs is what customs reads. The LEI check digits, the spelling of a scheme and
the self-vouching rule are beyond JSON Schema.
"""

from __future__ import annotations

import calendar
import difflib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any, ClassVar, TypeAlias, TypeVar, Union
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from tradevc.vc.errors import InvalidDocument, ResolutionError, UnsupportedError
from tradevc.vc.digests import digest_sri
from tradevc.vc.model import CREDENTIALS_V2, describe_error, parse_datetime
from tradevc.vc.checks.schemas import JSON_SCHEMA, default_schema_store, shipped_schema_for
from tradevc.vc.checks.vouches import TRUST_CONTEXT, VOUCH_TYPES, VouchError, read_vouch
from tradevc.vc.checks.supply import MASS_UNITS, TRADE_CONTEXT, TRANSFORMATION_EVENT, SupplyError, related_resource, to_kg
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.vc.retrieval.did import DID_RE

__all__ = [
    "CredentialType",
    "TRACEABILITY_V1",
    "CREDENTIAL_TYPES",
    "get_type",
    "type_names",
    "TYPE_ALIASES",
    "resolve_type_name",
    "similar_type_names",
    "IDENTIFIER_SCHEMES",
    "lei_check_digits_ok",
    "check_credential",
    "build_credential",
    "load_example",
    "schema_entry",
    "derived_from_entries",
    "add_related_resources",
    "TRADE_TERMS",
    "QUANTITY_UNITS",
    "CERTIFICATION_KINDS",
    "LICENSE_KINDS",
    "DELEGATION_SCOPES",
    "ENTRY_SCOPES",
]

TRACEABILITY_V1 = "https://w3id.org/traceability/v1"


# --------------------------------------------------------------------------------------------
# Value checks
# --------------------------------------------------------------------------------------------

_COUNTRY = re.compile(r"[A-Z]{2}")
_HS6 = re.compile(r"[0-9]{6}")
_HTS10 = re.compile(r"[0-9]{4}\.[0-9]{2}\.[0-9]{4}|[0-9]{10}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise ValueError(
            f"must be an ISO 3166-1 alpha-2 country code (two upper-case letters, like 'MX'), got {value!r}"
        )
    return value


def _hs_code(value: str) -> str:
    if not _HS6.fullmatch(value):
        raise ValueError(f"must be a 6-digit HS code (exactly six digits 0-9, like '730419'), got {value!r}")
    return value


def _hts_code(value: str) -> str:
    if not _HTS10.fullmatch(value):
        raise ValueError(
            f"must be a 10-digit HTS code, like '7304.19.1020' or '7304191020', got {value!r}"
        )
    return value


def _currency(value: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise ValueError(f"must be an ISO 4217 currency code (three upper-case letters, like 'USD'), got {value!r}")
    return value


def _usd(value: str) -> str:
    if value != "USD":
        raise ValueError(f"must be 'USD' (SIMA customs values are in U.S. dollars), got {value!r}")
    return value


def _number(value: Any) -> Decimal:
    """A JSON number or a decimal numeral string, as a Decimal; ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number or a numeric string, got {value!r}")
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise ValueError(f"must be a number or a numeric string, got {value!r}")
    if not number.is_finite():
        raise ValueError(f"must be a finite number, got {value!r}")
    return number


def _positive(value: Any) -> Any:
    if _number(value) <= 0:
        raise ValueError(f"must be a positive number, got {value!r}")
    return value


def _non_negative(value: Any) -> Any:
    if _number(value) < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    return value


def _mass_unit(value: str) -> str:
    if value not in MASS_UNITS:
        raise ValueError(
            f"must be one of {', '.join(MASS_UNITS)} (UN/ECE Recommendation 20: kilogram, metric ton, pound, "
            f"short ton), got {value!r}"
        )
    return value


def _quantity_unit(value: str) -> str:
    if value not in QUANTITY_UNITS:
        raise ValueError(f"must be one of {', '.join(QUANTITY_UNITS)} (UN/ECE Recommendation 20), got {value!r}")
    return value


QUANTITY_UNITS = (*MASS_UNITS, "H87", "MTR")
"""The units of a declared quantity: the mass units, pieces (``H87``) and metres (``MTR``)."""

Text = Annotated[str, AfterValidator(_text)]
MassUnit = Annotated[str, AfterValidator(_mass_unit)]
QuantityUnit = Annotated[str, AfterValidator(_quantity_unit)]
Country = Annotated[str, AfterValidator(_country)]
HsCode = Annotated[str, AfterValidator(_hs_code)]
HtsCode = Annotated[str, AfterValidator(_hts_code)]
Currency = Annotated[str, AfterValidator(_currency)]
PositiveNumber = Annotated[Any, AfterValidator(_positive)]
NonNegativeNumber = Annotated[Any, AfterValidator(_non_negative)]

# Discriminator tags for "one object or a non-empty list of them"; dropped from error paths.
_ONE, _MANY = "<one>", "<many>"
_TAGS = {_ONE, _MANY}


def _one_or_many(value: Any) -> str:
    """The discriminator tag of "one object or a non-empty list of them" (the aliases below)."""
    return _MANY if isinstance(value, list) else _ONE


_T = TypeVar("_T")
OneOrMore: TypeAlias = Annotated[
    Union[Annotated[_T, Tag(_ONE)], Annotated[list[_T], Field(min_length=1), Tag(_MANY)]],
    Discriminator(_one_or_many),
]
"""One value or a non-empty list of them: ``OneOrMore[Country]``."""


# --------------------------------------------------------------------------------------------
# Models of the vocabulary's objects
# --------------------------------------------------------------------------------------------


class _Node(BaseModel):
    """A JSON-LD node object that must carry one of ``TYPES``: the type whose scoped context
    defines its properties. Extra properties are allowed; the models only check."""

    model_config = ConfigDict(extra="allow", frozen=True)

    TYPES: ClassVar[tuple[str, ...]] = ()

    type: Any = Field(default=None, validate_default=True)

    @field_validator("type")
    @classmethod
    def _check_type(cls, value: Any) -> Any:
        if not cls.TYPES:
            return value
        wanted = " or ".join(repr(t) for t in cls.TYPES)
        if value is None:
            raise ValueError(f"required field is missing (it must include {wanted})")
        types = value if isinstance(value, list) else [value]
        if not types or not all(isinstance(t, str) and t for t in types):
            raise ValueError("must be a string or a list of strings")
        if not any(t in types for t in cls.TYPES):
            raise ValueError(
                f"must include {wanted}, the type under which the traceability vocabulary defines "
                f"this object's properties, got {value!r}"
            )
        return value


class PostalAddress(_Node):
    TYPES = ("PostalAddress",)
    streetAddress: Text
    addressLocality: Text
    addressRegion: Text | None = None
    postalCode: Text | None = None
    addressCountry: Country


class Place(_Node):
    TYPES = ("Place",)
    address: PostalAddress


class Party(_Node):
    """An exporter, producer, importer, customer, seller, buyer or manufacturer."""

    TYPES = ("Organization",)
    name: Text
    # The vocabulary's Organization defines no ``address``; its address is ``location.address``.
    location: Place
    email: Text | None = None
    phoneNumber: Text | None = None


OneOrMoreParties: TypeAlias = Annotated[
    Union[Annotated[Party, Tag(_ONE)], Annotated[list[Party], Field(min_length=1), Tag(_MANY)]],
    Discriminator(_one_or_many),
]


class Commodity(_Node):
    TYPES = ("Commodity",)
    commodityCode: Text
    commodityCodeType: Text | None = None


class QuantityKg(_Node):
    TYPES = ("QuantitativeValue", "MeasuredValue")
    value: PositiveNumber
    unitCode: str

    @field_validator("unitCode")
    @classmethod
    def _kilograms(cls, value: str) -> str:
        if value != "KGM":
            raise ValueError(f"must be 'KGM' (kilograms, UN/ECE Recommendation 20), got {value!r}")
        return value


class MonetaryAmountUsd(_Node):
    TYPES = ("MonetaryAmount",)
    value: PositiveNumber
    currency: Annotated[str, AfterValidator(_usd)]


class PriceSpecification(_Node):
    TYPES = ("PriceSpecification",)
    # The "amount" and "currency" are the vocabulary's price and priceCurrency.
    price: NonNegativeNumber
    priceCurrency: Currency


# ---- USMCA certification of origin -----------------------------------------------------------


class DeclaredQuantity(_Node):
    """A good's quantity (project context term ``declaredQuantity``): a QuantitativeValue."""

    TYPES = ("QuantitativeValue",)
    value: PositiveNumber
    unitCode: QuantityUnit


CERTIFICATION_KINDS = ("SingleShipment", "Blanket")
LICENSE_KINDS = ("Standard", "LowValue")


def _certification_kind(value: str) -> str:
    if value not in CERTIFICATION_KINDS:
        raise ValueError(
            f"must be 'SingleShipment' (one shipment) or 'Blanket' (identical goods shipped within "
            f"validFrom..validUntil), got {value!r}"
        )
    return value


def _license_kind(value: str) -> str:
    if value not in LICENSE_KINDS:
        raise ValueError(
            f"must be 'Standard' (valid for one entry) or 'LowValue' (a low-value licence, valid for "
            f"several entries), got {value!r}"
        )
    return value


class USMCACertifierDetails(_Node):
    """The certifier's name, title, address, telephone and email (USMCA data element 2)."""

    TYPES = ("ContactPoint",)
    name: Text
    jobTitle: Text  # the "title"; ContactPoint's term is jobTitle (schema.org/jobTitle)
    phoneNumber: Text
    email: Text
    place: Place  # ContactPoint has no address term; its address is place.address


class USMCACertifier(_Node):
    TYPES = ("USMCACertifier",)
    role: str  # traceability#certifierRole
    certifierDetails: USMCACertifierDetails

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value.lower() not in ("importer", "exporter", "producer"):
            raise ValueError(f"must be one of Importer, Exporter, Producer, got {value!r}")
        return value


class USMCAProduct(_Node):
    TYPES = ("USMCAProduct",)
    description: Text
    commodityCode: HsCode
    commodityCodeType: str | None = None
    originCriterion: str
    countryOfOrigin: Country
    # Project context (TRADE_CONTEXT): the quantity of the good certified.
    declaredQuantity: DeclaredQuantity | None = None

    @field_validator("commodityCodeType")
    @classmethod
    def _hs(cls, value: str | None) -> str | None:
        if value is not None and value != "HS":
            raise ValueError(f"must be 'HS' (the code is a 6-digit HS subheading), got {value!r}")
        return value

    @field_validator("originCriterion")
    @classmethod
    def _criterion(cls, value: str) -> str:
        if value not in ("A", "B", "C", "D"):
            raise ValueError(f"must be one of the USMCA origin criteria A, B, C, D, got {value!r}")
        return value


class USMCAClaims(_Node):
    TYPES = ("USMCAClaims",)
    # Not a vocabulary term: USMCAClaims has no property for its USMCACertifier.
    certifier: USMCACertifier
    exporterDetails: Party
    producerDetails: OneOrMoreParties
    importerDetails: OneOrMoreParties
    goods: Annotated[list[USMCAProduct], Field(min_length=1)]
    # Project context (TRADE_CONTEXT): one shipment, or all shipments of identical goods in the
    # blanket period validFrom..validUntil (at most 12 months).
    certificationKind: Annotated[str, AfterValidator(_certification_kind)] | None = None


# ---- Mill test report -----------------------------------------------------------------------


class ChemicalProperty(_Node):
    TYPES = ("ChemicalProperty",)
    formula: Text  # the element symbol: "C", "Mn", ...


class MechanicalProperty(_Node):
    TYPES = ("MechanicalProperty",)
    name: Text  # "Yield strength", "Tensile strength", "Elongation", ...


class Measurement(_Node):
    TYPES = ("MeasuredValue", "QuantitativeValue")
    value: NonNegativeNumber
    unitCode: Text | None = None


class PositiveMeasurement(Measurement):
    value: PositiveNumber


class _Observation(_Node):
    TYPES = ("Observation",)
    # What was observed ("Carbon", "Yield strength"). Required because it is the observation's
    # only literal: without it all the observations of a report are indistinguishable blank
    # nodes until their children are compared, and RDF canonicalization (eddsa-rdfc-2022) of a
    # report with several heats then takes exponential work and is refused.
    name: Text


class ChemicalObservation(_Observation):
    property: ChemicalProperty
    measurement: Measurement


class MechanicalObservation(_Observation):
    property: MechanicalProperty
    measurement: PositiveMeasurement


class InspectionReport(_Node):
    TYPES = ("InspectionReport",)
    # The "chemical composition" and "mechanical properties".
    chemicalObservation: Annotated[list[ChemicalObservation], Field(min_length=1)]
    mechanicalObservation: Annotated[list[MechanicalObservation], Field(min_length=1)]


class InspectedSteelProduct(_Node):
    """One inspection of the issue: an item or heat, with its test results."""

    TYPES = ("SteelProduct",)
    identifier: Text  # the "product identifier" (lot, coil, pipe or serial numbers)
    manufacturingCountry: Country  # the "country of manufacture"
    originalCountryOfMeltAndPour: Country  # SteelProduct's term for the country of melt and pour
    heatNumber: Text
    weight: PositiveNumber  # the heat's (or item's) weight, in weightUnit
    weightUnit: MassUnit
    specification: Text  # the "product specification" (e.g. "API 5L PSL2")
    inspection: InspectionReport
    # A report that restates another's heat (a pipe mill's) names the credential it comes from.
    sourceCredential: Annotated[str, AfterValidator(lambda v: _absolute_url(v))] | None = None


class MillTestReport(_Node):
    TYPES = ("Purchase",)
    customer: Party
    internalCertificateNo: Text  # the "certificate number"
    purchaseOrderNo: Text  # the "purchase order number"
    # Purchase maps both numbers to schema.org/identifier: the vocabulary's choice, not ours.
    product: Annotated[list[InspectedSteelProduct], Field(min_length=1)]  # the "inspections"


_REQUIRED_ELEMENTS = ("C", "Mn", "P", "S", "Si")


def _mill_test_report_rules(subject: Mapping[str, Any], prefix: str) -> Iterator[str]:
    """The chemical analysis of each product reports at least C, Mn, P, S and Si."""
    products = subject.get("product")
    if not isinstance(products, list):
        return
    for i, product in enumerate(products):
        inspection = product.get("inspection") if isinstance(product, Mapping) else None
        observations = inspection.get("chemicalObservation") if isinstance(inspection, Mapping) else None
        if not isinstance(observations, list):
            continue
        found = set()
        for observation in observations:
            prop = observation.get("property") if isinstance(observation, Mapping) else None
            formula = prop.get("formula") if isinstance(prop, Mapping) else None
            if isinstance(formula, str):
                found.add(formula.strip().lower())
        missing = [e for e in _REQUIRED_ELEMENTS if e.lower() not in found]
        if missing:
            yield (
                f"{prefix}.product[{i}].inspection.chemicalObservation: must report "
                f"{', '.join(_REQUIRED_ELEMENTS)} (by property.formula), missing {', '.join(missing)}"
            )


# ---- SIMA steel import license --------------------------------------------------------------


class HtsCommodity(Commodity):
    commodityCode: HtsCode

    @field_validator("commodityCodeType")
    @classmethod
    def _hts(cls, value: str | None) -> str | None:
        if value is not None and value != "HTS":
            raise ValueError(f"must be 'HTS', got {value!r}")
        return value


class SimaSteelProduct(_Node):
    TYPES = ("SteelProduct",)
    commodity: HtsCommodity  # the HTS commodity code
    weight: QuantityKg


class SIMASteelImportProductSpecifier(_Node):
    TYPES = ("SIMASteelImportProductSpecifier",)
    countryOfMeltAndPour: Country
    customsValue: MonetaryAmountUsd
    # The specifier type defines no commodity or weight term; the top-level ``product`` term
    # (a SteelProduct) does.
    product: SimaSteelProduct


OneOrMoreProductSpecifiers: TypeAlias = Annotated[
    Union[
        Annotated[SIMASteelImportProductSpecifier, Tag(_ONE)],
        Annotated[list[SIMASteelImportProductSpecifier], Field(min_length=1), Tag(_MANY)],
    ],
    Discriminator(_one_or_many),
]


class SIMASteelImportLicense(_Node):
    TYPES = ("SIMASteelImportLicense",)
    licenseNumber: Text
    importer: Party
    exporter: Party
    manufacturer: Party
    countryOfOrigin: Country
    countryOfExportation: Country
    productInformation: OneOrMoreProductSpecifiers
    # Project context (TRADE_CONTEXT): a standard licence covers one entry, a low-value one several.
    licenseKind: Annotated[str, AfterValidator(_license_kind)] | None = None


# ---- Commercial invoice ---------------------------------------------------------------------


class TradeLineItem(_Node):
    TYPES = ("TradeLineItem",)
    description: Text
    itemCount: PositiveNumber  # the "quantity" (uncefact despatchedQuantity)
    priceSpecification: PriceSpecification  # the "price" (the line's total price)


class CommercialInvoice(_Node):
    TYPES = ("Invoice",)
    invoiceNumber: Text
    seller: Party
    buyer: Party
    itemsShipped: Annotated[list[TradeLineItem], Field(min_length=1)]
    totalPaymentDue: PriceSpecification  # the "total payment due (amount + currency)"


# ---- Transformation event --------------------------------------------------------------------


def _datetime_text(value: str) -> str:
    try:
        parse_datetime(value, field="eventTime")
    except ValueError as e:
        raise ValueError(f"must be an XML Schema dateTime with a time zone, like '2026-03-02T06:00:00Z' ({e})") from None
    return value


def _tolerance(value: Any) -> Any:
    number = _number(value)
    if number < 0 or number > 1:
        raise ValueError(f"must be a fraction from 0 to 1 (0.02 for 2 %), got {value!r}")
    return value


class EventProduct(_Node):
    """A heat, coil or lot an event consumes or makes (the vocabulary's ``SteelProduct``
    terms: ``identifier``, ``heatNumber``, ``weight``, ``weightUnit``, ``commodity``)."""

    TYPES = ("SteelProduct",)
    identifier: Text | None = None
    heatNumber: Text | None = None
    weight: PositiveNumber
    weightUnit: MassUnit
    commodity: Commodity | None = None
    sourceCredential: Annotated[str, AfterValidator(lambda v: _absolute_url(v))] | None = None


class ConsumedProduct(EventProduct):
    """An input: a heat (``heatNumber``) or a lot (``identifier``), and the credential it
    comes from (``sourceCredential``: a mill test report or an earlier event)."""

    sourceCredential: Annotated[str, AfterValidator(lambda v: _absolute_url(v))]


class NewProduct(EventProduct):
    """An output: a lot with its identifier and commodity code."""

    identifier: Text
    commodity: Commodity


class TransformationEvent(_Node):
    """The subject of a ``TransformationEventCredential`` (project context terms)."""

    TYPES = ("TransformationEvent",)
    place: Place  # the facility; its country is place.address.addressCountry
    organization: Party
    eventTime: Annotated[str, AfterValidator(_datetime_text)]
    consumedProducts: Annotated[list[ConsumedProduct], Field(min_length=1)]
    newProducts: Annotated[list[NewProduct], Field(min_length=1)]
    yieldTolerance: Annotated[Any, AfterValidator(_tolerance)] | None = None


def _transformation_event_rules(subject: Mapping[str, Any], prefix: str) -> Iterator[str]:
    """Each input names a heat or a lot, and the outputs weigh no more than the inputs (plus
    the declared yield tolerance): the mass balance the border checks is checked first here."""
    consumed = subject.get("consumedProducts")
    produced = subject.get("newProducts")
    if not isinstance(consumed, list) or not isinstance(produced, list):
        return
    for i, item in enumerate(consumed):
        if isinstance(item, Mapping) and not item.get("heatNumber") and not item.get("identifier"):
            yield f"{prefix}.consumedProducts[{i}]: must name the heat (heatNumber) or the lot (identifier) consumed"
    try:
        inputs = sum((to_kg(i["weight"], i["weightUnit"]) for i in consumed), Decimal(0))
        outputs = sum((to_kg(i["weight"], i["weightUnit"]) for i in produced), Decimal(0))
        tolerance = _number(subject.get("yieldTolerance", 0))
    except (SupplyError, KeyError, TypeError, ValueError):
        return  # the models name the bad weight
    if outputs > inputs * (1 + tolerance):
        yield (
            f"{prefix}.newProducts: the outputs weigh {outputs} kg, more than the {inputs} kg consumed "
            f"(yield tolerance {tolerance}): outputs cannot exceed inputs"
        )


# ---- Vouches: identity anchors, accreditations, licences ------------------------------------
#
# Subjects of the credentials in which one party vouches for another, read by the verifier with
# tradevc.vc.checks.vouches.read_vouch. Their terms are defined by the project context
# TRUST_CONTEXT (contexts/tradevc-trust-v1.jsonld) and schema.org, not by the traceability
# context: credentials of these types carry [VC 2.0, TRUST_CONTEXT].


def _did(value: str) -> str:
    if not DID_RE.fullmatch(value):
        raise ValueError(
            f"must be the DID of the party vouched for (did:<method>:<id>, like 'did:web:mill.example', "
            f"without a path or fragment), got {value!r}"
        )
    return value


# Identifier schemes whose values are checked; any other propertyID is free text (a national
# register, a tax number...). Spelled as here: a known scheme in another case is refused, so
# that verifiers comparing schemes as given see one spelling.
MID, EORI, LEI, GS1, IOR = "MID", "EORI", "LEI", "GS1", "IOR"
IDENTIFIER_SCHEMES = (MID, EORI, LEI, GS1, IOR)

_MID = re.compile(r"[A-Z]{2}[A-Z0-9]{1,10}[A-Z]{3}")
_EORI = re.compile(r"[A-Z]{2}[A-Z0-9]{1,15}")
_LEI = re.compile(r"[A-Z0-9]{18}[0-9]{2}")
_GS1_COMPANY_PREFIX = re.compile(r"[0-9]{4,12}")
_IMPORTER_NUMBER = re.compile(r"[0-9]{2}-[0-9]{7}(?:[0-9]{2})?|[0-9]{6}-[0-9]{5}")


def lei_check_digits_ok(value: str) -> bool:
    """ISO 17442 check digits (ISO 7064 MOD 97-10): the 20 characters, letters as 10..35,
    read as one number, leave remainder 1 modulo 97."""
    return int("".join(str(int(c, 36)) for c in value)) % 97 == 1


def _mid(value: str) -> str:
    """CBP manufacturer identification code (19 CFR Part 102, Appendix): the ISO country code
    (Canada: the province code, XO for Ontario...), the first three letters of the first two
    words of the name, up to four digits of the street address, the first three letters of
    the city; at most 15 upper-case letters and digits, no spaces."""
    example = "like 'MXACEDEL12SAN' for Aceros del Norte, Carretera a Saltillo km 12, Santa Catarina, Mexico"
    if not re.fullmatch(r"[A-Z0-9]+", value):
        return f"a MID has only upper-case letters A-Z and digits, no spaces or punctuation, got {value!r} ({example})"
    if len(value) > 15:
        return f"a MID has at most 15 characters, got {len(value)} in {value!r}"
    if value.startswith("CA"):
        return (f"a MID does not start with CA: a Canadian manufacturer's MID starts with its province "
                f"code (XA Alberta, XC British Columbia, XO Ontario, XQ Quebec...), got {value!r}")
    if not _MID.fullmatch(value):
        return (f"a MID is the 2-letter ISO country code, the name's letters, the address number, then the "
                f"first three letters of the city, got {value!r} ({example})")
    return ""


def _scheme_problem(scheme: str, value: str) -> str:
    """Why ``value`` is not an identifier of ``scheme`` (empty if it is, or if the scheme is
    not one of :data:`IDENTIFIER_SCHEMES`)."""
    if scheme == MID:
        return _mid(value)
    if scheme == EORI and not _EORI.fullmatch(value):
        return (f"an EORI number is the 2-letter country code and up to 15 upper-case letters or digits, "
                f"like 'DE123456789012345', got {value!r}")
    if scheme == LEI:
        if not _LEI.fullmatch(value):
            return (f"an LEI (ISO 17442) is 18 upper-case letters or digits and 2 check digits, like "
                    f"'5493000ACEDELNORTE51', got {value!r}")
        if not lei_check_digits_ok(value):
            return (f"{value!r} is not an LEI: its check digits (ISO 7064 MOD 97-10) do not match; "
                    f"check it against the GLEIF record")
    if scheme == GS1 and not _GS1_COMPANY_PREFIX.fullmatch(value):
        return f"a GS1 company prefix is 4 to 12 digits, like '7501234', got {value!r}"
    if scheme == IOR and not _IMPORTER_NUMBER.fullmatch(value):
        return (f"a CBP importer number is an IRS EIN 'NN-NNNNNNN' (optionally with a 2-digit suffix, "
                f"'NN-NNNNNNNXX') or a CBP-assigned number 'YYDDPP-NNNNN', got {value!r}")
    return ""


class PropertyValue(BaseModel):
    """A registered identifier (schema.org ``PropertyValue``): ``propertyID`` is the scheme
    (``MID``, ``EORI``, ``LEI``, ``GS1``, ``IOR``, or any other register's name), ``value``
    the identifier. ``type``, if given, must include ``PropertyValue``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Any = None
    propertyID: Text
    value: Text

    @field_validator("type")
    @classmethod
    def _check_type(cls, value: Any) -> Any:
        if value is None:
            return value
        types = value if isinstance(value, list) else [value]
        if "PropertyValue" not in types:
            raise ValueError(f"must include 'PropertyValue' (or be left out), got {value!r}")
        return value

    @field_validator("propertyID")
    @classmethod
    def _check_scheme(cls, value: str) -> str:
        for scheme in IDENTIFIER_SCHEMES:
            if value != scheme and value.strip().upper() == scheme:
                raise ValueError(f"write the scheme as {scheme!r}, got {value!r}")
        return value

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str, info: ValidationInfo) -> str:
        problem = _scheme_problem(info.data.get("propertyID", ""), value)
        if problem:
            raise ValueError(problem)
        return value


def _hs_scope(value: str) -> str:
    if not _HS_SCOPE.fullmatch(value):
        raise ValueError(
            f"must be an HS chapter (2 digits, '72'), heading (4 digits, '7304') or subheading "
            f"(6 digits, '730419' or '7304.19'), got {value!r}"
        )
    return value


_HS_SCOPE = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{4}\.?[0-9]{2}")
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*|[A-Za-z][A-Za-z0-9+.-]*:\S+")


def _type_name(value: str) -> str:
    if not _TYPE_NAME.fullmatch(value):
        raise ValueError(f"must be a credential type name, like 'MillTestReportCredential', got {value!r}")
    if value == "VerifiableCredential":
        raise ValueError("must name a credential type; 'VerifiableCredential' would allow every credential")
    if value in TYPE_ALIASES:  # a short name is vc-issuer's, not a credential's type
        raise ValueError(f"write the full type name {TYPE_ALIASES[value]!r}, as credentials carry it, not {value!r}")
    return value


def _digits(value: str) -> str:
    if not re.fullmatch(r"[0-9]{1,12}", value):
        raise ValueError(f"must be a GS1 prefix: 1 to 12 digits 0-9, like '750', got {value!r}")
    return value


def _company_prefix(value: str) -> str:
    if not _GS1_COMPANY_PREFIX.fullmatch(value):
        raise ValueError(f"must be a GS1 company prefix: 4 to 12 digits 0-9, like '7501234', got {value!r}")
    return value


_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def _absolute_url(value: str) -> str:
    """The id of another credential: an absolute URL or URN (``urn:uuid:...``, ``https://...``)."""
    problem = f"must be the id of the parent credential, an absolute URL or URN like 'urn:uuid:...', got {value!r}"
    if not _SCHEME.fullmatch(value):
        raise ValueError(problem)
    scheme = value.split(":", 1)[0].lower()
    if scheme == "urn" and not _URN.fullmatch(value):
        raise ValueError(problem)
    if scheme in ("http", "https") and not urlsplit(value).netloc:
        raise ValueError(problem)
    return value


Did = Annotated[str, AfterValidator(_did)]
HsScope = Annotated[str, AfterValidator(_hs_scope)]
TypeName = Annotated[str, AfterValidator(_type_name)]
Gs1Prefix = Annotated[str, AfterValidator(_digits)]
Gs1CompanyPrefix = Annotated[str, AfterValidator(_company_prefix)]
AbsoluteUrl = Annotated[str, AfterValidator(_absolute_url)]


_RECORDATION = re.compile(r"[A-Z]{3} [0-9]{2}-[0-9]{5}")


def _recordation_number(value: str) -> str:
    if not _RECORDATION.fullmatch(value):
        raise ValueError(
            f"must be a CBP recordation number, like 'TMK 11-00163' (TMK trademarks, COP copyrights), got {value!r}"
        )
    return value


RecordationNumber = Annotated[str, AfterValidator(_recordation_number)]

class _VouchedParty(_Node):
    """What every vouch says of its subject: the DID vouched for, the party's name, and the
    optional scope: identifiers, credential types it may issue, goods, territories."""

    id: Did
    name: Text
    identifier: OneOrMore[PropertyValue] | None = None
    authorizedCredentialType: OneOrMore[TypeName] | None = None
    hsScope: OneOrMore[HsScope] | None = None
    territory: OneOrMore[Country] | None = None


class RegisteredParty(_VouchedParty):
    """The subject of an ``IdentityAnchorCredential``: a registrar binds the party's registered
    identifiers to its DID."""

    TYPES = ("RegisteredParty",)
    identifier: OneOrMore[PropertyValue]


class AccreditedBody(_VouchedParty):
    """The subject of an ``AccreditationCredential``: the types a lab, chamber or certifier may issue."""

    TYPES = ("AccreditedBody",)
    authorizedCredentialType: OneOrMore[TypeName]


class GS1Licensee(_VouchedParty):
    """The subject of a ``GS1PrefixLicenseCredential``: the GS1 prefixes licensed."""

    TYPES = ("Licensee",)
    licenseValue: OneOrMore[Gs1Prefix]
    extendsCredential: AbsoluteUrl | None = None


class GS1CompanyLicensee(GS1Licensee):
    """The subject of a ``GS1CompanyPrefixLicenseCredential``: company prefixes, granted under
    the issuer's own GS1 prefix licence (``extendsCredential``, required: see the rules)."""

    licenseValue: OneOrMore[Gs1CompanyPrefix]


class IPLicensee(_VouchedParty):
    """The subject of an ``IntellectualPropertyRightsLicenseCredential``: the recorded marks
    the party may put on goods, optionally with their CBP recordation numbers."""

    TYPES = ("Licensee",)
    mark: OneOrMore[Text]
    recordationNumber: OneOrMore[RecordationNumber] | None = None
    extendsCredential: AbsoluteUrl | None = None


def _company_prefix_licence_rules(subject: Mapping[str, Any], prefix: str) -> Iterator[str]:
    if subject.get("extendsCredential") is None:
        yield (
            f"{prefix}.extendsCredential: required field is missing (a GS1CompanyPrefixLicenseCredential is "
            "granted under its issuer's GS1PrefixLicenseCredential: give that credential's id)"
        )


# ---- Customs power of attorney ----------------------------------------------------------------
#
# The Traceability Vocabulary's PowerOfAttorneyCredential: the issuer is the principal (the
# importer of record), the subject the agent (the customs broker), an Organization. The
# vocabulary has no terms for what customs needs to know of the power, so they are in the
# project context TRADE_CONTEXT: the principal's importer number, the broker's filer code and
# licence number, the scope and the ports of entry.

DELEGATION_SCOPES: dict[str, str] = {
    "customs-business": "all customs business (a general power of attorney, 19 CFR 141.32)",
    "customs-entry": "make entry and file entry summaries for the principal",
    "drawback": "claim drawback for the principal",
    "protest": "file protests for the principal",
}
"""The scopes a customs power of attorney may grant, with what each covers."""

ENTRY_SCOPES = ("customs-business", "customs-entry")
"""The scopes that cover making entry (checked by the verifier's ``parties`` rule)."""

_FILER_CODE = re.compile(r"[A-Z0-9]{3}")
_PORT_CODE = re.compile(r"[0-9]{4}")
_BROKER_LICENCE = re.compile(r"[0-9]{1,8}")


def _importer_number(value: str) -> str:
    problem = _scheme_problem(IOR, value)
    if problem:
        raise ValueError(problem)
    return value


def _filer_code(value: str) -> str:
    if not _FILER_CODE.fullmatch(value):
        raise ValueError(f"must be a CBP filer code: three upper-case letters or digits, like 'ABC', got {value!r}")
    return value


def _broker_licence(value: str) -> str:
    if not _BROKER_LICENCE.fullmatch(value):
        raise ValueError(f"must be a customs broker licence number (19 CFR Part 111): 1 to 8 digits, got {value!r}")
    return value


def _port_code(value: str) -> str:
    if not _PORT_CODE.fullmatch(value):
        raise ValueError(f"must be a CBP port code: four digits (Schedule D), like '5301' for Houston, got {value!r}")
    return value


def _delegation_scope(value: str) -> str:
    if value not in DELEGATION_SCOPES:
        raise ValueError(f"must be one of {', '.join(DELEGATION_SCOPES)}, got {value!r}")
    return value


class Principal(_Node):
    """The importer of record granting the power: its name and CBP importer number; its DID,
    if given, is the credential's issuer."""

    TYPES = ("Organization",)
    id: Did | None = None
    name: Text
    importerNumber: Annotated[str, AfterValidator(_importer_number)]


class CustomsBroker(_Node):
    """The subject of a ``PowerOfAttorneyCredential``: the agent (a customs broker) by its DID,
    with its filer code and/or licence number, the principal, the scope and the ports."""

    TYPES = ("Organization",)
    id: Did
    name: Text
    location: Place | None = None
    filerCode: Annotated[str, AfterValidator(_filer_code)] | None = None
    brokerLicenseNumber: Annotated[str, AfterValidator(_broker_licence)] | None = None
    principal: Principal
    scope: Annotated[list[Annotated[str, AfterValidator(_delegation_scope)]], Field(min_length=1)]
    portOfEntry: OneOrMore[Annotated[str, AfterValidator(_port_code)]] | None = None


def _power_of_attorney_rules(subject: Mapping[str, Any], prefix: str) -> Iterator[str]:
    if subject.get("filerCode") is None and subject.get("brokerLicenseNumber") is None:
        yield (f"{prefix}: give the broker's filerCode or brokerLicenseNumber (or both), so that customs can "
               "tell the broker the power names")


def _power_of_attorney_credential_rules(credential: Mapping[str, Any]) -> Iterator[str]:
    """The issuer is the principal: a principal's DID, if given, is the issuer's, and the
    agent is someone else."""
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subjects = credential.get("credentialSubject")
    for i, subject in enumerate(subjects if isinstance(subjects, list) else [subjects]):
        prefix = f"credentialSubject[{i}]" if isinstance(subjects, list) else "credentialSubject"
        if not isinstance(subject, Mapping):
            continue
        if isinstance(issuer_id, str) and subject.get("id") == issuer_id:
            yield f"{prefix}.id: the agent cannot be the principal ({issuer_id} issues this power of attorney)"
        principal = subject.get("principal")
        named = principal.get("id") if isinstance(principal, Mapping) else None
        if named is not None and named != issuer_id:
            yield (f"{prefix}.principal.id: must be the issuer ({issuer_id}): the importer grants the power by "
                   f"signing it, not {named!r}")


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialType:
    """A trade credential type: what its subject looks like and how long it may be valid."""

    name: str
    subject_type: str | None
    requires_valid_until: bool
    max_validity: timedelta | None
    """An upper bound on validFrom..validUntil (for USMCA: 366 days, the longest 12 months)."""
    max_validity_months: int | None = None
    """The calendar bound: validUntil is at most validFrom plus this many months."""
    title: str = ""
    example: str | None = None
    """The example subject's file name in ``issuer/examples`` (see :func:`load_example`)."""
    subject_model: type[BaseModel] | None = field(default=None, repr=False, compare=False)
    subject_rules: Callable[[Mapping[str, Any], str], Iterable[str]] | None = field(
        default=None, repr=False, compare=False
    )
    contexts: tuple[str, ...] = (CREDENTIALS_V2, TRACEABILITY_V1)
    """The ``@context`` of a credential :func:`build_credential` makes."""
    alias: str | None = None
    """A short name ``vc-issuer issue --type`` also accepts (see :func:`resolve_type_name`)."""
    expiry_reason: str | None = None
    """Why validUntil is required, for the error message (default: it must say when it expires)."""
    credential_rules: Callable[[Mapping[str, Any]], Iterable[str]] | None = field(
        default=None, repr=False, compare=False
    )
    """Checks of the whole credential (its issuer against its subject, say)."""

    @property
    def vouch(self) -> bool:
        """A type in which the issuer vouches for another party (read by
        :func:`tradevc.vc.checks.vouches.read_vouch`)."""
        return self.name in VOUCH_TYPES


CREDENTIAL_TYPES: dict[str, CredentialType] = {
    t.name: t
    for t in (
        CredentialType(
            name="USMCACertificationOfOrigin",
            subject_type="USMCAClaims",
            requires_valid_until=True,
            max_validity=timedelta(days=366),
            max_validity_months=12,
            title="USMCA Certification of Origin",
            example="usmca-certification-of-origin.subject.json",
            subject_model=USMCAClaims,
        ),
        CredentialType(
            name="MillTestReportCredential",
            subject_type="Purchase",
            requires_valid_until=False,
            max_validity=None,
            title="Mill Test Report",
            example="mill-test-report.subject.json",
            subject_model=MillTestReport,
            subject_rules=_mill_test_report_rules,
        ),
        CredentialType(
            name="SIMASteelImportLicenseCredential",
            subject_type="SIMASteelImportLicense",
            requires_valid_until=True,
            max_validity=None,
            title="SIMA Steel Import License",
            example="sima-steel-import-license.subject.json",
            subject_model=SIMASteelImportLicense,
        ),
        CredentialType(
            name="CommercialInvoiceCredential",
            subject_type="Invoice",
            requires_valid_until=False,
            max_validity=None,
            title="Commercial Invoice",
            example="commercial-invoice.subject.json",
            subject_model=CommercialInvoice,
        ),
        CredentialType(
            name=TRANSFORMATION_EVENT,
            subject_type="TransformationEvent",
            requires_valid_until=False,
            max_validity=None,
            title="Transformation Event",
            example="transformation-event.subject.json",
            subject_model=TransformationEvent,
            subject_rules=_transformation_event_rules,
            contexts=(CREDENTIALS_V2, TRACEABILITY_V1, TRADE_CONTEXT),
            alias="TransformationEvent",
        ),
        CredentialType(
            name="IdentityAnchorCredential",
            subject_type="RegisteredParty",
            requires_valid_until=True,
            max_validity=None,
            title="Identity Anchor",
            example="identity-anchor.subject.json",
            subject_model=RegisteredParty,
            contexts=(CREDENTIALS_V2, TRUST_CONTEXT),
            alias="IdentityAnchor",
            expiry_reason=(
                "an identity anchor must expire, so that the registrar's word is renewed rather than "
                "trusted forever: give validUntil (vc-issuer issue --valid-until)"
            ),
        ),
        CredentialType(
            name="AccreditationCredential",
            subject_type="AccreditedBody",
            requires_valid_until=True,
            max_validity=None,
            title="Accreditation",
            example="accreditation.subject.json",
            subject_model=AccreditedBody,
            contexts=(CREDENTIALS_V2, TRUST_CONTEXT),
            alias="Accreditation",
            expiry_reason=(
                "an accreditation must expire, as the accreditation it states does: give validUntil "
                "(vc-issuer issue --valid-until)"
            ),
        ),
        CredentialType(
            name="GS1PrefixLicenseCredential",
            subject_type="Licensee",
            requires_valid_until=False,
            max_validity=None,
            title="GS1 Prefix License",
            example="gs1-prefix-license.subject.json",
            subject_model=GS1Licensee,
            contexts=(CREDENTIALS_V2, TRUST_CONTEXT),
            alias="GS1PrefixLicense",
        ),
        CredentialType(
            name="GS1CompanyPrefixLicenseCredential",
            subject_type="Licensee",
            requires_valid_until=False,
            max_validity=None,
            title="GS1 Company Prefix License",
            example="gs1-company-prefix-license.subject.json",
            subject_model=GS1CompanyLicensee,
            subject_rules=_company_prefix_licence_rules,
            contexts=(CREDENTIALS_V2, TRUST_CONTEXT),
            alias="GS1CompanyPrefixLicense",
        ),
        CredentialType(
            name="IntellectualPropertyRightsLicenseCredential",
            subject_type="Licensee",
            requires_valid_until=False,
            max_validity=None,
            title="Intellectual Property Rights License",
            example="ip-rights-license.subject.json",
            subject_model=IPLicensee,
            contexts=(CREDENTIALS_V2, TRUST_CONTEXT),
            alias="IPRightsLicense",
        ),
        CredentialType(
            name="PowerOfAttorneyCredential",
            subject_type="Organization",
            requires_valid_until=True,
            max_validity=None,
            title="Customs Power of Attorney",
            example="power-of-attorney.subject.json",
            subject_model=CustomsBroker,
            subject_rules=_power_of_attorney_rules,
            credential_rules=_power_of_attorney_credential_rules,
            contexts=(CREDENTIALS_V2, TRACEABILITY_V1, TRADE_CONTEXT),
            alias="PowerOfAttorney",
            expiry_reason=(
                "a customs power of attorney must end, and 19 CFR 141.46 lets the importer revoke it sooner "
                "(keep its status entry): give validUntil (vc-issuer issue --valid-until)"
            ),
        ),
    )
}

TYPE_ALIASES: dict[str, str] = {t.alias: t.name for t in CREDENTIAL_TYPES.values() if t.alias}
"""Short names of the known types (``IdentityAnchor`` -> ``IdentityAnchorCredential``)."""


def get_type(name: str) -> CredentialType | None:
    """The known trade type called ``name``, or None for any other (custom) type."""
    return CREDENTIAL_TYPES.get(name)


def type_names() -> list[str]:
    """The names of the known trade credential types."""
    return list(CREDENTIAL_TYPES)


def resolve_type_name(name: str) -> str:
    """The full name of a known type given by its short name (``IdentityAnchor`` ->
    ``IdentityAnchorCredential``, see :data:`TYPE_ALIASES`); any other name unchanged."""
    return TYPE_ALIASES.get(name, name)


def _type_key(name: str) -> str:
    return name.lower().removesuffix("credential")


def similar_type_names(name: str, *, cutoff: float = 0.6) -> list[str]:
    """The known types whose name (or short name) is close to ``name``, best first, at most
    three: what ``vc-issuer`` suggests for a type it does not know. Letter case and a
    ``Credential`` suffix are not counted (``CommercialInvoice`` and ``commercialinvoicecredential``
    both give ``CommercialInvoiceCredential``); ``cutoff`` is :mod:`difflib`'s, from 0 to 1.
    A known type's own full name gives nothing."""
    if name in CREDENTIAL_TYPES:
        return []
    keys: dict[str, str] = {}
    for known in CREDENTIAL_TYPES:
        keys.setdefault(_type_key(known), known)
    for alias, known in TYPE_ALIASES.items():
        keys.setdefault(_type_key(alias), known)
    matches = difflib.get_close_matches(_type_key(name), list(keys), n=6, cutoff=cutoff)
    return list(dict.fromkeys(keys[m] for m in matches))[:3]


def load_example(type_name: str) -> dict[str, Any]:
    """The example credential subject of a known type (a fresh copy).

    :raises KeyError: not a known type.
    """
    ctype = CREDENTIAL_TYPES[type_name]
    if ctype.example is None:
        raise KeyError(f"{type_name} has no example")
    text = resources.files("tradevc.issuer").joinpath("examples", ctype.example).read_text(encoding="utf-8")
    example: dict[str, Any] = json.loads(text)
    return example


# --------------------------------------------------------------------------------------------
# Checking and building
# --------------------------------------------------------------------------------------------


def schema_entry(type_name: str) -> dict[str, Any] | None:
    """The ``credentialSchema`` entry for a known trade type: its shipped JSON Schema (VC JSON
    Schema, type ``JsonSchema``) with the ``digestSRI`` of the exact schema file, so that a
    verifier can tell the schema it holds is the one the issuer used; None for other types."""
    url = shipped_schema_for(type_name)
    data = default_schema_store().resource_bytes(url) if url else None
    if url is None or data is None:
        return None
    return {"id": url, "type": JSON_SCHEMA, "digestSRI": digest_sri(data)}


def attach_schema(credential: dict[str, Any]) -> None:
    """Give a VC Data Model 2.0 credential of a known trade type the ``credentialSchema`` entry
    of its shipped schema, unless it already names one (its own choice is kept)."""
    if "credentialSchema" in credential or _contexts(credential)[:1] != [CREDENTIALS_V2]:
        return
    types = credential.get("type")
    for name in types if isinstance(types, list) else [types]:
        entry = schema_entry(name) if isinstance(name, str) and name in CREDENTIAL_TYPES else None
        if entry is not None:
            credential["credentialSchema"] = entry
            return


def _contexts(credential: Mapping[str, Any]) -> list[Any]:
    context = credential.get("@context")
    return context if isinstance(context, list) else [context]


def check_credential(credential: Mapping[str, Any]) -> None:
    """Check a credential of a known trade type (picked from its ``type``) before signing.

    A no-op for credentials of no known trade type. The trade rules are checked twice: by the
    models of this module (whose messages say how to fix a field) and then against the type's
    shipped JSON Schema, exactly as a verifier will check the credential's ``credentialSchema``
    (so nothing is issued that the border would refuse). Only the validity period's length in
    calendar months is beyond JSON Schema. The VC data model rules are checked when signing.

    :raises InvalidDocument: listing every missing or malformed field, each with its JSON path.
    """
    if not isinstance(credential, Mapping):
        raise InvalidDocument(f"a credential must be a JSON object, not {type(credential).__name__}")
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    known = [CREDENTIAL_TYPES[t] for t in dict.fromkeys(types) if isinstance(t, str) and t in CREDENTIAL_TYPES]
    problems: list[str] = []
    for ctype in known:
        problems.extend(_subject_problems(ctype, credential))
        problems.extend(_validity_problems(ctype, credential))
        if ctype.credential_rules is not None:
            problems.extend(ctype.credential_rules(credential))
    if any(ctype.vouch for ctype in known):
        problems.extend(_vouch_problems(credential, problems))
    if any(TRACEABILITY_V1 in ctype.contexts for ctype in known):
        problems.extend(_trade_context_problems(credential))
    if not problems:
        for ctype in known:
            problems.extend(_schema_problems(ctype, credential))
    if problems:
        names = ", ".join(t.name for t in known)
        raise InvalidDocument(f"invalid {names}: " + "; ".join(problems))


TRADE_TERMS = frozenset({
    "consumedProducts", "newProducts", "yieldTolerance", "eventTime", "sourceCredential", "declaredQuantity",
    "certificationKind", "licenseKind", "principal", "importerNumber", "filerCode", "brokerLicenseNumber", "scope",
    "portOfEntry",
})
"""The terms of :data:`TRADE_CONTEXT` (besides the type names) a subject may use."""


def _uses(value: Any, terms: frozenset[str]) -> str | None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in terms:
                return str(key)
            found = _uses(item, terms)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _uses(item, terms)
            if found:
                return found
    return None


def _trade_context_problems(credential: Mapping[str, Any]) -> list[str]:
    """A credential that uses the trade context's terms must carry it, after the traceability
    context (it is @protected); without it the terms would fall to the issuer-dependent
    vocabulary and mean nothing to the border."""
    contexts = _contexts(credential)
    types = credential.get("type")
    used = _uses(credential.get("credentialSubject"), TRADE_TERMS) or (
        TRANSFORMATION_EVENT if isinstance(types, list) and TRANSFORMATION_EVENT in types else None
    )
    if used is None:
        return []
    if TRADE_CONTEXT not in contexts:
        return [f"@context: must include {TRADE_CONTEXT}, which defines {used!r} (after {TRACEABILITY_V1})"]
    if TRACEABILITY_V1 in contexts and contexts.index(TRACEABILITY_V1) > contexts.index(TRADE_CONTEXT):
        return [f"@context: {TRACEABILITY_V1} must come before {TRADE_CONTEXT}, which is @protected"]
    return []


def _vouch_problems(credential: Mapping[str, Any], found: list[str]) -> list[str]:
    """What keeps a vouch from being read as one: its terms need the trust context (without it
    they fall to the issuer-dependent vocabulary), a party cannot vouch for itself, and (once
    the models found nothing) the verifier's own reader,
    :func:`tradevc.vc.checks.vouches.read_vouch`, must read it."""
    problems: list[str] = []
    contexts = _contexts(credential)
    if TRUST_CONTEXT not in contexts:
        problems.append(
            f"@context: must include {TRUST_CONTEXT}, which defines the terms of identity anchors, "
            f"accreditations and licences (after {CREDENTIALS_V2}; the traceability context, if used, before it)"
        )
    elif TRACEABILITY_V1 in contexts and contexts.index(TRACEABILITY_V1) > contexts.index(TRUST_CONTEXT):
        problems.append(
            f"@context: {TRACEABILITY_V1} must come before {TRUST_CONTEXT}: it redefines terms the trust "
            "context protects"
        )
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    if isinstance(issuer_id, str) and issuer_id == subject_id:
        problems.append(f"credentialSubject.id: a party cannot vouch for itself ({issuer_id} is also the issuer)")
    if not found and not problems:
        try:
            read_vouch(credential)
        except VouchError as e:
            problems.append(f"{e} (as the verifier reads it)")
    return problems


def _schema_problems(ctype: CredentialType, credential: Mapping[str, Any]) -> list[str]:
    url = shipped_schema_for(ctype.name)
    if url is None:
        return []
    try:
        found = default_schema_store().problems(url, credential)
    except (InvalidDocument, ResolutionError, UnsupportedError) as e:
        return [f"schema {url}: {e.message}"]
    return [f"{p['path']}: {p['message']} (schema {url})" for p in found]


def build_credential(
    type_name: str,
    subject: Mapping[str, Any],
    *,
    issuer: str | Mapping[str, Any],
    valid_from: str | None = None,
    valid_until: str | None = None,
    credential_id: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Assemble the unsigned credential of type ``type_name`` about ``subject``, and check it.

    The credential has the contexts of its type (VC 2.0 and traceability, and the trade context
    :data:`TRADE_CONTEXT` after them for a transformation event or a subject that uses its terms;
    VC 2.0 and the trust context for identity anchors, accreditations and licences), ``id`` (default ``urn:uuid:`` and a
    random UUID), ``type`` ``["VerifiableCredential", type_name]``, ``issuer``, ``validFrom``
    (default: now, UTC, to the second), ``validUntil`` if given, a copy of ``subject`` as
    ``credentialSubject`` (a subject without a ``type`` gets the type's subject type), and for a
    known trade type the ``credentialSchema`` of its shipped JSON Schema (:func:`schema_entry`).
    ``subject`` is not changed.

    :raises InvalidDocument: the subject is not a JSON object, or :func:`check_credential` fails.
    """
    if not isinstance(type_name, str) or not type_name:
        raise InvalidDocument("the credential type must be a non-empty string")
    if not isinstance(subject, Mapping):
        raise InvalidDocument(f"the credential subject must be a JSON object, not {type(subject).__name__}")
    body = _json_copy(subject, "credentialSubject")
    ctype = get_type(type_name)
    if ctype is not None and ctype.subject_type and "type" not in body:
        body["type"] = [ctype.subject_type]
    contexts = list(ctype.contexts) if ctype is not None else [CREDENTIALS_V2, TRACEABILITY_V1]
    if TRACEABILITY_V1 in contexts and TRADE_CONTEXT not in contexts and _uses(body, TRADE_TERMS):
        contexts.append(TRADE_CONTEXT)  # the supply-path terms: see tradevc.vc.checks.supply
    credential: dict[str, Any] = {
        "@context": contexts,
        "id": credential_id if credential_id is not None else f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"] + ([type_name] if type_name != "VerifiableCredential" else []),
    }
    if name is not None:
        credential["name"] = name
    credential["issuer"] = _json_copy(issuer, "issuer") if isinstance(issuer, Mapping) else issuer
    credential["validFrom"] = valid_from if valid_from is not None else _now()
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = body
    attach_schema(credential)
    check_credential(credential)
    return credential


def derived_from_entries(inputs: Iterable[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """The ``relatedResource`` entries that pin ``inputs``, the signed credentials a new one
    derives from (JSON objects, or ``vc+jwt`` compact tokens): see
    :func:`tradevc.vc.checks.supply.related_resource` for the digest and why.

    :raises InvalidDocument: an input that is not a credential with an id (a token that is
        not a compact JWS, a JSON value JCS cannot serialize).
    """
    entries: list[dict[str, Any]] = []
    for index, item in enumerate(inputs):
        if isinstance(item, str):
            token = item.strip()
            payload = parse_compact_jws(token).payload
            document: Any = payload.get("vc") if "@context" not in payload and isinstance(payload.get("vc"), dict) else payload
            credential_id = document.get("id") or payload.get("jti")
            form: Mapping[str, Any] | str = token
        elif isinstance(item, Mapping):
            credential_id, form = item.get("id"), item
        else:
            raise InvalidDocument(f"input {index}: a credential is a JSON object or a vc+jwt, not {type(item).__name__}")
        if not isinstance(credential_id, str) or not _SCHEME.fullmatch(credential_id):
            raise InvalidDocument(
                f"input {index}: a credential this one derives from must have an id (a URL or URN), got {credential_id!r}"
            )
        entries.append(related_resource(credential_id, form))
    return entries


def add_related_resources(credential: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of ``credential`` whose ``relatedResource`` also lists ``entries`` (an entry for
    an id it lists already must be the same).

    :raises InvalidDocument: an id listed already with other digests.
    """
    out = dict(credential)
    existing = out.get("relatedResource")
    listed = [dict(e) for e in (existing if isinstance(existing, list) else [existing] if existing else [])]
    by_id = {e.get("id"): e for e in listed if isinstance(e, Mapping)}
    for entry in entries:
        known = by_id.get(entry["id"])
        if known is None:
            listed.append(dict(entry))
            by_id[entry["id"]] = listed[-1]
        elif {k: known.get(k) for k in entry} != dict(entry):
            raise InvalidDocument(
                f"relatedResource: {entry['id']} is listed already with other digests than the input given for it"
            )
    out["relatedResource"] = listed
    return out


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_copy(value: Any, where: str) -> Any:
    """A deep copy of JSON-like data (mappings become dicts, tuples lists)."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidDocument(f"{where}: property names must be strings, got {k!r}")
            out[k] = _json_copy(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_json_copy(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise InvalidDocument(f"{where}: {type(value).__name__} is not a JSON value")


def _subject_problems(ctype: CredentialType, credential: Mapping[str, Any]) -> list[str]:
    if "credentialSubject" not in credential:
        return ["credentialSubject: required field is missing"]
    subjects = credential["credentialSubject"]
    if isinstance(subjects, list):
        if not subjects:
            return ["credentialSubject: must not be empty"]
        entries = [(f"credentialSubject[{i}]", s) for i, s in enumerate(subjects)]
    else:
        entries = [("credentialSubject", subjects)]
    problems: list[str] = []
    for prefix, subject in entries:
        if not isinstance(subject, Mapping):
            problems.append(f"{prefix}: must be a JSON object")
            continue
        if ctype.subject_model is not None:
            try:
                ctype.subject_model.model_validate(dict(subject))
            except ValidationError as e:
                problems.extend(_describe(e, prefix))
        if ctype.subject_rules is not None:
            problems.extend(ctype.subject_rules(subject, prefix))
    return problems


_HINTS = {
    # (missing field, field given instead) -> hint
    ("identifier", "registeredId"): (
        "registeredId and idScheme are UNTP's: an IdentityAnchorCredential lists each identifier as "
        "identifier: [{type: ['PropertyValue'], propertyID: 'LEI', value: '...'}]"
    ),
    ("id", "did"): "the DID vouched for is the subject's id: id: 'did:web:...'",
    ("authorizedCredentialType", "credentialType"): (
        "the types the party may issue are authorizedCredentialType: ['MillTestReportCredential', ...]"
    ),
    ("licenseValue", "prefix"): "the licensed prefixes are licenseValue: ['7501234']",
    ("mark", "trademark"): "the recorded marks are mark: ['...'], as recorded with CBP",
    ("location", "address"): (
        "the traceability vocabulary's Organization has no 'address' term: "
        "give the PostalAddress as location: {type: ['Place'], address: {...}}"
    ),
    ("place", "address"): (
        "the traceability vocabulary's ContactPoint has no 'address' term: "
        "give the PostalAddress as place: {type: ['Place'], address: {...}}"
    ),
}


def _describe(error: ValidationError, prefix: str) -> list[str]:
    problems = []
    for item in error.errors():
        path = prefix
        for part in item["loc"]:
            if part in _TAGS:
                continue
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        message = describe_error(item)  # in plain words: "must be a string, got a number"
        if item["type"] == "missing":
            field_name = item["loc"][-1] if item["loc"] else None
            given = item.get("input")
            for (missing, instead), hint in _HINTS.items():
                if field_name == missing and isinstance(given, Mapping) and instead in given:
                    message += f" ({hint})"
        problems.append(f"{path}: {message}")
    return problems


def _add_months(moment: datetime, months: int) -> datetime:
    years, month0 = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + years, month0 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _validity_problems(ctype: CredentialType, credential: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    bounded = ctype.max_validity is not None or ctype.max_validity_months is not None
    start = end = None
    if "validFrom" in credential:
        try:
            start = parse_datetime(credential["validFrom"], field="validFrom")
        except ValueError as e:
            problems.append(f"validFrom: {e}")
    elif bounded:
        problems.append(f"validFrom: required field is missing (it starts the {ctype.name} validity period)")
    if "validUntil" in credential:
        try:
            end = parse_datetime(credential["validUntil"], field="validUntil")
        except ValueError as e:
            problems.append(f"validUntil: {e}")
    elif ctype.requires_valid_until:
        reason = ctype.expiry_reason or f"a {ctype.name} must say when it expires"
        problems.append(f"validUntil: required field is missing ({reason})")
    if start is None or end is None:
        return problems
    if end <= start:
        problems.append(f"validUntil: must be after validFrom ({credential['validFrom']})")
        return problems
    if ctype.max_validity_months is not None:
        latest = _add_months(start, ctype.max_validity_months)
        if end > latest:
            problems.append(
                f"validUntil: the validity period validFrom..validUntil of a {ctype.name} must not "
                f"exceed {ctype.max_validity_months} months, so it may end at {latest.isoformat()} "
                f"at the latest, not {credential['validUntil']}"
            )
            return problems
    if ctype.max_validity is not None and end - start > ctype.max_validity:
        problems.append(
            f"validUntil: the validity period validFrom..validUntil of a {ctype.name} must not "
            f"exceed {ctype.max_validity.days} days, it is {end - start}"
        )
    return problems
