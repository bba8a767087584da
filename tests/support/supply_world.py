"""An entry whose line has a supply path of two steps, for the drawing's tests: a melt shop's
mill test report (the heat melted and poured in ``melt_country``), a transformation event at a
Mexican pipe works that turned the heat into a pipe lot, and the pipe mill's mill test report
(the line's document) restating the heat, each pinned to the one before by its digest. All of
it is signed for real and verified by the entry tests' :class:`~support.entries.World`."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from support.entries import MELT_SHOP, World, _iso, mill_report, sign
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.checks.supply import related_resource
from tradevc.vc.keys import KeyPair

PIPE_WORKS = KeyPair.generate("Ed25519")
MELT_ID, EVENT_ID, PIPE_ID = "urn:uuid:melt-1", "urn:uuid:event-1", "urn:uuid:mtr-1"
HEAT = "H26-18841"


def _address(country: str) -> dict[str, Any]:
    return {"type": ["PostalAddress"], "streetAddress": "1 Industrial Road", "addressLocality": "Works",
            "addressCountry": country}


def melt_report(*, day: date, melt_country: str, name: str, weight_kg: int = 100000,
                key: KeyPair = MELT_SHOP) -> dict[str, Any]:
    """The melt shop's mill test report: heat ``HEAT`` melted and poured in ``melt_country``,
    by a melt shop of that country."""
    subject = load_example("MillTestReportCredential")
    product = copy.deepcopy(subject["product"][0])
    product.update(heatNumber=HEAT, originalCountryOfMeltAndPour=melt_country, manufacturingCountry=melt_country,
                   identifier="SLAB-1", weight=str(weight_kg), weightUnit="KGM")
    subject["product"] = [product]
    subject["manufacturer"]["name"] = name
    subject["manufacturer"]["location"]["address"] = _address(melt_country)
    credential = build_credential("MillTestReportCredential", subject, issuer=key.did, credential_id=MELT_ID,
                                  valid_from=_iso(day, -40), valid_until=_iso(day, 335))
    return sign(credential, key)


def pipe_event(*, day: date, source: dict[str, Any], facility: str, country: str = "MX", consumed_kg: int = 100000,
               produced_kg: int = 98000, key: KeyPair = PIPE_WORKS) -> dict[str, Any]:
    """The pipe works turned heat ``HEAT`` of ``source`` (a signed report) into lot ``LOT-0``."""
    subject = {
        "type": ["TransformationEvent"],
        "place": {"type": ["Place"], "address": _address(country)},
        "organization": {"type": ["Organization"], "name": facility,
                         "location": {"type": ["Place"], "address": _address(country)}},
        "eventTime": _iso(day, -20),
        "yieldTolerance": "0.005",
        "consumedProducts": [{"type": ["SteelProduct"], "heatNumber": HEAT, "weight": str(consumed_kg),
                              "weightUnit": "KGM", "sourceCredential": source["id"]}],
        "newProducts": [{"type": ["SteelProduct"], "identifier": "LOT-0", "weight": str(produced_kg),
                         "weightUnit": "KGM",
                         "commodity": {"type": ["Commodity"], "commodityCode": "730419", "commodityCodeType": "HS"}}],
    }
    credential = build_credential("TransformationEventCredential", subject, issuer=key.did, credential_id=EVENT_ID,
                                  valid_from=_iso(day, -20), valid_until=_iso(day, 335))
    credential["relatedResource"] = [related_resource(source["id"], source)]
    return sign(credential, key)


def two_step_world(*, melt_country: str = "CN", declared: str = "MX", facility: str = "Tubos del Golfo S.A. de C.V.",
                   melt_shop: str = "Baotou Steel Melt Shop", day: date = date(2026, 3, 10),
                   restated_kg: int = 98000) -> World:
    """World.steel whose mill test report ``urn:uuid:mtr-1`` is a pipe mill's, restating the
    heat of a melt shop's report through the pipe works' event (which made 98 t of pipe from
    the 100 t heat; the pipe mill's report restates ``restated_kg`` of it); the line declares
    ``declared`` as the country of melt and pour. The policy trusts the pipe works for transformation events."""
    world = World.steel(day)
    melt = melt_report(day=day, melt_country=melt_country, name=melt_shop)
    event = pipe_event(day=day, source=melt, facility=facility)
    world.replace(PIPE_ID, mill_report(day=day, heats=[(HEAT, melt_country, restated_kg)], source=event))
    world.credentials += [event, melt]
    world.line = dict(world.line, countryOfMeltAndPour=declared)
    world.policy = copy.deepcopy(world.policy)
    world.policy["trustedIssuers"].append(
        {"did": PIPE_WORKS.did, "name": "the pipe works", "types": ["TransformationEventCredential"]})
    return world


__all__ = ["EVENT_ID", "HEAT", "MELT_ID", "PIPE_ID", "PIPE_WORKS", "melt_report", "pipe_event", "two_step_world"]
