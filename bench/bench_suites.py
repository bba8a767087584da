"""Benchmark: sign and verify the reference certificate of origin with every cryptosuite,
against the floor of one Ed25519 signature check by ``cryptography``, all in this one run.

Each figure is the median over several runs of the mean time per call in a batch; the
process is warm (contexts loaded once before timing). Run with ``make bench``.

The reference credential carries a credentialStatus entry; status lists are not checked yet,
so ``verify_credential`` reports it as could-not-verify, but the timing covers every other
check, including canonicalizing the whole credential.
"""

from __future__ import annotations

import statistics
import sys
from typing import Callable

from common import NOW, REFERENCE, floor, reference_credential, samples

from tradevc.issuer import sign_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.proofs.data_integrity import verify_proof
from tradevc.vc.securing.proofs.suite import canonical_nquads
from tradevc.verifier import TrustPolicy, verify_credential, verify_presentation
from tradevc.wallet import sign_presentation

RUNS = 7
SUITES = [
    ("eddsa-rdfc-2022", "Ed25519"),
    ("eddsa-jcs-2022", "Ed25519"),
    ("ecdsa-rdfc-2019", "P-256"),
    ("ecdsa-rdfc-2019", "P-384"),
    ("ecdsa-jcs-2019", "P-256"),
    ("ecdsa-jcs-2019", "P-384"),
    ("Ed25519Signature2020", "Ed25519"),
]


def measure(fn: Callable[[], object], batch: int, runs: int = RUNS) -> float:
    """Median over ``runs`` of the mean seconds per call in a batch of ``batch`` calls."""
    return statistics.median(samples(fn, batch, runs))


def credential_for(suite: str, key: KeyPair) -> dict:
    credential = reference_credential(key, keep_status=True)
    if suite == "Ed25519Signature2020":
        credential["@context"].append("https://w3id.org/security/suites/ed25519-2020/v1")
    return credential


def main() -> int:
    floor_time = measure(floor, batch=2000)

    loader = default_loader()
    resolvers = DidResolvers.offline()
    now = NOW
    policy = TrustPolicy.unsafe_any_issuer()
    rows: list[tuple[str, float]] = [("Ed25519 verify, cryptography (floor)", floor_time)]
    reference = credential_for("eddsa-rdfc-2022", KeyPair.generate("Ed25519"))
    rows.append(("canonicalize (expand + RDFC-1.0)", measure(lambda: canonical_nquads(reference, loader=loader), 20)))

    signed_by_suite = {}
    for suite, key_type in SUITES:
        key = KeyPair.generate(key_type)
        credential = credential_for(suite, key)
        signed = sign_credential(credential, key, cryptosuite=suite, created="2026-01-01T00:00:00Z")
        signed_by_suite[(suite, key_type)] = signed
        label = f"{suite} {key_type}"
        rows.append((f"{label}: sign", measure(lambda: sign_credential(credential, key, cryptosuite=suite), 20)))
        rows.append((f"{label}: verify proof only", measure(
            lambda: verify_proof(signed, signed["proof"], resolvers=resolvers, loader=loader), 20)))
        rows.append((f"{label}: verify_credential", measure(
            lambda: verify_credential(signed, policy=policy, now=now), 20)))

    holder = KeyPair.generate("Ed25519")
    credential = signed_by_suite[("eddsa-rdfc-2022", "Ed25519")]
    vp = sign_presentation([credential], holder, challenge="c", domain="cbp.gov", created="2026-06-01T00:00:00Z")
    rows.append(("presentation of 1 credential (eddsa-rdfc-2022): verify", measure(
        lambda: verify_presentation(vp, challenge="c", domain="cbp.gov", policy=policy, now=now), 10)))

    print(f"reference credential: {REFERENCE.name}; medians of {RUNS} runs; Python {sys.version.split()[0]}")
    print(f"{'measure':58} {'median':>12} {'x floor':>9}")
    for name, seconds in rows:
        print(f"{name:58} {seconds * 1000:9.3f} ms {seconds / floor_time:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
