"""The supply-path walker never raises for what it is given: any value in any field of any
credential of a path (weights, units, links, digests, types) gives a path with findings or
without, never an exception; and a path whose every node is verified and pinned stays free of
findings only while its facts hold."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradevc.vc.checks.supply import related_resource
from tradevc.vc.report import CheckResult, VerificationResult
from tradevc.verifier.supply import FINDING_CODES, walk_supply_path

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MTR, EVENT = "urn:uuid:mtr", "urn:uuid:event"


def verified(_: Any) -> VerificationResult:
    """Every node verifies: what is left to find is in the facts and links."""
    return VerificationResult([CheckResult.passed("proof")])


def mtr() -> dict[str, Any]:
    return {
        "id": MTR, "type": ["VerifiableCredential", "MillTestReportCredential"], "issuer": "did:example:melt",
        "credentialSubject": {"type": ["Purchase"], "product": [
            {"type": ["SteelProduct"], "identifier": "S1", "heatNumber": "H1", "originalCountryOfMeltAndPour": "CN",
             "weight": "50", "weightUnit": "TNE"},
        ]},
    }


def event(upstream: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": EVENT, "type": ["VerifiableCredential", "TransformationEventCredential"], "issuer": "did:example:pipe",
        "relatedResource": [related_resource(MTR, upstream)],
        "credentialSubject": {
            "type": ["TransformationEvent"],
            "place": {"type": ["Place"], "address": {"type": ["PostalAddress"], "addressCountry": "MX"}},
            "consumedProducts": [{"type": ["SteelProduct"], "heatNumber": "H1", "weight": "50", "weightUnit": "TNE",
                                  "sourceCredential": MTR}],
            "newProducts": [{"type": ["SteelProduct"], "identifier": "P1", "weight": "49", "weightUnit": "TNE"}],
        },
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8)
    | st.sampled_from(["KGM", "TNE", "LBR", "STN", "H1", MTR, EVENT, "-1", "1e9", "0.5"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
PATHS = [
    ("credentialSubject", "product", 0, "weight"), ("credentialSubject", "product", 0, "weightUnit"),
    ("credentialSubject", "product", 0, "heatNumber"), ("credentialSubject", "product", 0),
    ("credentialSubject", "product"), ("credentialSubject",), ("type",), ("id",), ("issuer",),
    ("credentialSubject", "consumedProducts", 0, "sourceCredential"), ("credentialSubject", "consumedProducts"),
    ("credentialSubject", "newProducts", 0, "weight"), ("credentialSubject", "yieldTolerance"),
    ("relatedResource",), ("relatedResource", 0, "digestSRI"), ("relatedResource", 0, "id"),
]


def put(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = document
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return
    try:
        node[path[-1]] = value
    except (IndexError, TypeError):
        pass


def test_the_path_is_clean_to_begin_with():
    upstream = mtr()
    path = walk_supply_path([event(upstream)], [upstream], verified)
    assert path.findings == [] and [h.number for h in path.heats_for(EVENT)] == ["H1"]


@SETTINGS
@given(which=st.sampled_from(["mtr", "event"]), where=st.sampled_from(PATHS), value=JSON)
def test_any_value_anywhere_gives_findings_not_exceptions(which, where, value):
    upstream = mtr()
    downstream = event(upstream)
    target = upstream if which == "mtr" else downstream
    before = copy.deepcopy(target)
    put(target, where, value)
    path = walk_supply_path([downstream], [upstream], verified)
    assert all(f.code in FINDING_CODES for f in path.findings)
    if which == "mtr" and target != before:
        # the event pinned the report before it changed: the change is always seen (under
        # another id, the pinned report is missing)
        assert {"DIGEST_MISMATCH", "MISSING_LINK"} & {f.code for f in path.findings}
        assert path.heats_for(EVENT) == []
    path.to_dict()
