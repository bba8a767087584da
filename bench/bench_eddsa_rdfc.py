"""Benchmark: eddsa-rdfc-2022 sign and verify of the reference certificate of origin, against
the floor of one Ed25519 signature check by ``cryptography``, all measured in this run.

Each figure is the median over several runs of the per-operation mean of a batch; the
process is warm (contexts loaded once before timing). Run with ``make bench``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer import sign_credential
from vc.did.resolver import DidResolvers
from vc.jsonld import default_loader
from vc.keys import KeyPair
from vc.proofs.data_integrity import verify_proof
from vc.proofs.suite import canonical_nquads
from verifier import TrustPolicy, verify_credential

REFERENCE = Path(__file__).resolve().parent / "usmca-certification-of-origin.json"
RUNS = 7


def measure(fn: Callable[[], object], batch: int, runs: int = RUNS) -> float:
    """Median over ``runs`` of the mean seconds per call in a batch of ``batch`` calls."""
    fn()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples)


def main() -> int:
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    message = bytes(64)
    signature = private.sign(message)
    floor = measure(lambda: public.verify(signature, message), batch=2000)

    key = KeyPair.generate("Ed25519")
    credential = json.loads(REFERENCE.read_text(encoding="utf-8"))
    credential["issuer"]["id"] = key.did
    loader = default_loader()
    resolvers = DidResolvers.offline()
    policy = TrustPolicy({key.did: ["USMCACertificationOfOrigin"]})
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    signed = sign_credential(credential, key, created="2026-01-01T00:00:00Z")

    results = {
        "Ed25519 verify, cryptography (floor)": floor,
        "canonicalize credential (expand + RDFC-1.0)": measure(lambda: canonical_nquads(credential, loader=loader), 20),
        "eddsa-rdfc-2022 sign (sign_credential)": measure(lambda: sign_credential(credential, key), 20),
        "eddsa-rdfc-2022 verify proof only": measure(
            lambda: verify_proof(signed, signed["proof"], resolvers=resolvers, loader=loader), 20
        ),
        "eddsa-rdfc-2022 verify_credential (all checks)": measure(
            lambda: verify_credential(signed, policy=policy, now=now), 20
        ),
    }
    print(f"reference credential: {REFERENCE.name}; medians of {RUNS} runs; Python {sys.version.split()[0]}")
    print(f"{'measure':50} {'median':>12} {'x floor':>10}")
    for name, seconds in results.items():
        print(f"{name:50} {seconds * 1000:9.3f} ms {seconds / floor:9.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
