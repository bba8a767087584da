"""Entry worlds for the demo's last two cases, built on :mod:`support.entries` (imported, not
changed): a transshipment (pipe finished in Mexico by the anchored mill from coil of heats a
melt shop melted and poured in China, pinned by digests over a two-step supply path) and a
single-shipment certification with a declared quantity split over several entries."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any

from support.entries import MELT_SHOP, MILL, World, certification, licence, mill_report, policy, sign
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.checks.supply import related_resource

MELT_ID, EVENT_ID, PIPE_ID = "urn:uuid:melt-cn", "urn:uuid:event-mx", "urn:uuid:mtr-1"
CN_HEATS = [("H26-C7731", "CN", 24000), ("H26-C7732", "CN", 24000)]
SINGLE_ID = "urn:uuid:coo-single"


def _iso(day: date, days: int = 0) -> str:
    return (datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=days)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def transformation_event(*, day: date, melt: dict[str, Any], lots: list[tuple[str, str, int]],
                         id: str = EVENT_ID) -> dict[str, Any]:
    """The mill's event: it consumes the melt shop report's products (coil of each heat) and
    makes ``lots`` (identifier, heat, kg), pinned to the report by its digest."""
    subject = load_example("TransformationEventCredential")
    subject["consumedProducts"] = [
        {"type": ["SteelProduct"], "identifier": p["identifier"], "heatNumber": p["heatNumber"],
         "weight": p["weight"], "weightUnit": p["weightUnit"], "sourceCredential": melt["id"]}
        for p in melt["credentialSubject"]["product"]
    ]
    subject["newProducts"] = [
        {"type": ["SteelProduct"], "identifier": lot, "weight": str(kg), "weightUnit": "KGM",
         "commodity": {"type": ["Commodity"], "commodityCode": "730419", "commodityCodeType": "HS"}}
        for lot, _heat, kg in lots
    ]
    credential = build_credential("TransformationEventCredential", subject, issuer=MILL.did, credential_id=id,
                                  valid_from=_iso(day, -20), valid_until=_iso(day, 345))
    credential["relatedResource"] = [related_resource(melt["id"], melt)]
    return sign(credential, MILL)


def transshipment(day: date = date(2026, 3, 10)) -> World:
    """Line pipe finished in Mexico (the mill's event and its report for the pipe lots) from
    heats melted and poured in China (the melt shop's report), declared as melted and poured
    in Mexico. The policy trusts the melt shop directly and the mill, anchored, also for its
    transformation events."""
    world = World.steel(day)
    melt = mill_report(day=day, key=MELT_SHOP, id=MELT_ID, heats=CN_HEATS)
    # the pipe mill's lots keep the identifiers its report gives them (LOT-0, LOT-1)
    event = transformation_event(day=day, melt=melt, lots=[("LOT-0", "H26-C7731", 20000), ("LOT-1", "H26-C7732", 20000)])
    pipe = mill_report(day=day, id=PIPE_ID, heats=[("H26-C7731", "CN", 20000), ("H26-C7732", "CN", 20000)],
                       source=event)
    world.replace(PIPE_ID, pipe)
    world.replace("urn:uuid:sima-1", licence(day=day, weight=40000))
    world.credentials += [event, melt]
    world.line = dict(world.line, quantity=40000, heats=["H26-C7731", "H26-C7732"])
    world.policy = trusting_events(policy())
    return world


def trusting_events(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the mill trusted for its transformation events too."""
    out = copy.deepcopy(base)
    out["trustedIssuers"].append({"did": MILL.did, "name": "Aceros del Norte Santa Catarina mill",
                                  "types": ["TransformationEventCredential"]})
    return out


def split_shipment(day: date = date(2026, 3, 10), *, certified_kg: int = 50000) -> World:
    """A single-shipment certification declaring ``certified_kg`` of pipe, a mill report with
    heat enough, and two standard SIMA licences of 30 t (``urn:uuid:sima-a``, ``urn:uuid:sima-b``);
    the line (30 t) uses licence A: set ``line`` for the next entry."""
    world = World.steel(day)
    single = certification(day=day, id=SINGLE_ID, quantity=certified_kg,
                           edit=lambda s: s.update(certificationKind="SingleShipment"))
    world.credentials = [
        world.credentials[0], single,
        licence(day=day, id="urn:uuid:sima-a", number="SIMA-2026-0520114", weight=30000),
        licence(day=day, id="urn:uuid:sima-b", number="SIMA-2026-0520115", weight=30000),
    ]
    world.line = dict(world.line, quantity=30000, simaLicenseNumber="SIMA-2026-0520114",
                      credentials=["urn:uuid:mtr-1", SINGLE_ID, "urn:uuid:sima-a"])
    return world


def second_entry(world: World, number: str = "ABC-7654321-0", *, kg: int = 30000) -> World:
    """The same goods' next entry, on licence B."""
    nxt = copy.deepcopy(world)
    nxt.entry = dict(nxt.entry, entryNumber=number)
    nxt.line = dict(nxt.line, quantity=kg, simaLicenseNumber="SIMA-2026-0520115",
                    credentials=["urn:uuid:mtr-1", SINGLE_ID, "urn:uuid:sima-b"])
    return nxt


__all__ = ["CN_HEATS", "EVENT_ID", "MELT_ID", "PIPE_ID", "SINGLE_ID", "second_entry", "split_shipment",
           "transformation_event", "transshipment", "trusting_events"]
