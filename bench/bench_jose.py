"""Benchmark: vc+jwt (VC-JOSE-COSE) sign and verify of the reference certificate of origin
with ES256, ES384 and EdDSA, against the floor of one Ed25519 signature check by
``cryptography`` measured in the same run.

Each figure is the median, minimum and maximum over several runs of the mean time per call in
a batch; the process is warm. The credentialStatus entry is removed, so ``verify_credential``
runs every check to a verified report (offline, did:key). Run with ``make bench``.
"""

from __future__ import annotations

import sys
from typing import Callable

from common import NOW, REFERENCE, floor, reference_credential, samples, spread

from tradevc.vc.verification import verify_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.securing.jws import parse_compact_jws, verify_signature
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.policy import TrustPolicy

RUNS = 9
ALGORITHMS = [("ES256", "P-256"), ("ES384", "P-384"), ("EdDSA", "Ed25519")]


def measure(fn: Callable[[], object], batch: int, runs: int = RUNS) -> tuple[float, float, float]:
    """(median, min, max) over ``runs`` of the mean seconds per call in a batch of ``batch`` calls."""
    return spread(samples(fn, batch, runs))


def main() -> int:
    floor_time = measure(floor, batch=2000)

    resolvers = DidResolvers.offline()
    now = NOW
    rows: list[tuple[str, tuple[float, float, float]]] = [("Ed25519 verify, cryptography (floor)", floor_time)]
    for alg, key_type in ALGORITHMS:
        key = KeyPair.generate(key_type)
        credential = reference_credential(key)
        policy = TrustPolicy({key.did: ["USMCACertificationOfOrigin"]})
        token = sign_credential_jwt(credential, key)
        result = verify_credential(token, policy=policy, now=now)
        assert result.verified, result.summary()
        jws = parse_compact_jws(token)
        kid = jws.header["kid"]
        rows.append((f"vc+jwt {alg}: sign", measure(lambda: sign_credential_jwt(credential, key), 50)))
        rows.append((f"vc+jwt {alg}: verify signature only", measure(lambda: verify_signature(jws, kid, resolvers), 50)))
        rows.append((f"vc+jwt {alg}: verify_credential", measure(
            lambda: verify_credential(token, policy=policy, now=now, resolvers=resolvers), 50)))

    print(f"reference credential: {REFERENCE.name} as vc+jwt; medians (min..max) of {RUNS} runs; "
          f"Python {sys.version.split()[0]}")
    print(f"{'measure':42} {'median':>11} {'min..max':>19} {'x floor':>9}")
    for name, (median, low, high) in rows:
        print(f"{name:42} {median * 1000:8.3f} ms {low * 1000:8.3f}..{high * 1000:<8.3f} {median / floor_time[0]:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
