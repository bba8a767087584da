"""Stress: verify 20,000 distinct credentials (2,000 distinct issuers, so the key cache
evicts) in one process and check that memory grows only by the bounded caches. Run with
``make stress``; exits non-zero if resident memory grows by more than LIMIT_MB between the
first 5,000 verifications (caches filling) and the end."""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path

from common import NOW, REFERENCE

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier

COUNT = 20_000
ISSUERS = 2_000
WARM = 5_000
LIMIT_MB = 25.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> int:
    template = json.loads(REFERENCE.read_text(encoding="utf-8"))
    del template["credentialStatus"]
    keys = [KeyPair.generate("Ed25519") for _ in range(ISSUERS)]
    verifier = Verifier.offline(policy=TrustPolicy.unsafe_any_issuer(),
                                clock=lambda: NOW)
    began, warm_rss = time.perf_counter(), 0.0
    for i in range(COUNT):
        key = keys[i % ISSUERS]
        credential = copy.deepcopy(template)
        credential["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        credential["issuer"]["id"] = key.did
        credential["credentialSubject"]["goods"][0]["description"] += f", lot {i}"
        signed = sign_credential(credential, key, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
        if not verifier.verify_credential(signed).verified:
            print(f"credential {i} did not verify", file=sys.stderr)
            return 1
        if i + 1 == WARM:
            warm_rss = rss_mb()
        if (i + 1) % 5_000 == 0:
            print(f"{i + 1:6d} signed and verified, {time.perf_counter() - began:5.1f} s, RSS {rss_mb():6.1f} MB")
    growth = rss_mb() - warm_rss
    print(f"RSS growth from {WARM} to {COUNT} verifications: {growth:.1f} MB (limit {LIMIT_MB} MB)")
    return 0 if growth <= LIMIT_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
