"""Who the parties of an entry are, by their identity anchors (issue 16's vouches).

An entry's importer of record is *anchored* when a verified identity anchor names its DID, the
anchor's issuer has a trust path to a root of the policy, and the anchor's identifiers include
the importer number the entry declares, under a scheme that is an importer number
(:data:`IMPORTER_SCHEMES`). The anchors come with the presentation (``vc-wallet present
--anchors``), from the policy's trust store or from the party's DID document: the verifier's
trust paths find and verify them (:meth:`tradevc.verifier.Verifier.anchor_paths`).

:func:`importer_anchor` picks the anchor and says which (issuer, identifier, credential,
root); :func:`anchored_identifiers` reads the identifiers anchored for a party under a scheme
(a mill's ``MID``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["IMPORTER_SCHEMES", "anchor_summary", "anchored_identifiers", "importer_anchor", "same_number"]

IMPORTER_SCHEMES = ("IOR", "EIN")
"""Identifier schemes whose values are importer numbers: ``IOR`` (CBP importer of record
number: an IRS EIN, with an optional suffix, or a CBP-assigned number) and ``EIN``."""


def same_number(a: str, b: str) -> bool:
    """Two importer numbers are the same, ignoring hyphens and spaces (``76-1234567`` is
    ``761234567``)."""
    def bare(value: str) -> str:
        return "".join(ch for ch in value if ch.isalnum()).upper()
    return bool(bare(a)) and bare(a) == bare(b)


def _identifiers(step: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for text in step.get("identifiers") or []:
        scheme, _, value = str(text).partition(" ")
        if value:
            out.append((scheme, value))
    return out


def anchor_summary(path: Mapping[str, Any], identifier: str) -> dict[str, Any]:
    """What a report says of the anchor ending ``path`` (``identifier``: the one that fits):
    its issuer (DID and name: the next step's party, or the root), the identifier, the
    credential and the root."""
    steps = path.get("steps") or []
    step = steps[0] if steps else {}
    vouch = step.get("vouch") or {}
    root = path.get("root") or {}
    issuer = vouch.get("issuer")
    name = steps[1].get("name") if len(steps) > 1 else root.get("name")
    return {"issuer": issuer, "issuerName": name or issuer, "identifier": identifier, "credential": vouch.get("id"),
            "root": root.get("did")}


def importer_anchor(number: str, paths: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The anchor (see :func:`anchor_summary`) among the anchor ``paths`` of the importer's DID
    whose identifiers include ``number`` under one of :data:`IMPORTER_SCHEMES`; None if none does."""
    for path in paths:
        steps = path.get("steps") or []
        if not steps:
            continue
        for scheme, value in _identifiers(steps[0]):
            if scheme in IMPORTER_SCHEMES and same_number(value, number):
                return anchor_summary(path, f"{scheme} {value}")
    return None


def anchored_identifiers(paths: Iterable[Mapping[str, Any]], scheme: str) -> list[tuple[str, dict[str, Any]]]:
    """The values of ``scheme`` that the identity anchors ending ``paths`` (trust paths as
    ``issuer_trust`` reports them) bind to their party, each with its anchor (see
    :func:`anchor_summary`)."""
    out = []
    for path in paths:
        steps = path.get("steps") or []
        if not steps:
            continue
        if steps[0].get("kind") != "anchor":
            continue
        for found, value in _identifiers(steps[0]):
            if found == scheme:
                out.append((value, anchor_summary(path, f"{found} {value}")))
    return out
