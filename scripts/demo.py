"""The tradevc demo: a steel mill signs a USMCA certification of origin, customs verifies it,
then someone changes one claim and customs sees exactly which check fails.

Run with ``make demo``.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from issuer import sign_credential
from vc.keys import KeyPair
from verifier import TrustPolicy, verify_credential

REFERENCE = Path(__file__).resolve().parent.parent / "bench" / "usmca-certification-of-origin.json"


def banner(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


def main() -> int:
    banner("1. The certifier (Aceros del Norte) makes an Ed25519 key")
    key = KeyPair.generate("Ed25519")
    print(f"issuer DID: {key.did}")

    banner("2. It signs a USMCA certification of origin (eddsa-rdfc-2022)")
    credential = json.loads(REFERENCE.read_text(encoding="utf-8"))
    credential["issuer"]["id"] = key.did
    # a blanket period around today, so the demo tells the same story whenever it runs
    today = datetime.now(timezone.utc).replace(microsecond=0)
    credential["validFrom"] = (today - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential["validUntil"] = (today + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Revocation lists arrive with a later release; this demo credential carries no status entry.
    credential.pop("credentialStatus", None)
    signed = sign_credential(credential, key, cryptosuite="eddsa-rdfc-2022")
    goods = signed["credentialSubject"]["goods"]
    for item in goods:
        print(f"  HS {item['commodityCode']}  origin {item['countryOfOrigin']}  criterion {item['originCriterion']}"
              f"  {item['description']}")
    print(f"proof: {signed['proof']['cryptosuite']}, created {signed['proof']['created']}, "
          f"proofValue {signed['proof']['proofValue'][:24]}...")

    print(f"blanket period: {credential['validFrom']} .. {credential['validUntil']}")

    # Customs trusts this certifier, for certifications of origin only.
    policy = TrustPolicy({key.did: ["USMCACertificationOfOrigin"]})

    banner("3. Customs verifies it")
    result = verify_credential(signed, policy=policy)
    print(result.summary())

    banner("4. Someone changes one claim: the first item's country of origin MX -> CN")
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["goods"][0]["countryOfOrigin"] = "CN"
    tampered_result = verify_credential(tampered, policy=policy)
    print(tampered_result.summary())

    banner("5. The certificate presented after its blanket period ended")
    late = verify_credential(signed, policy=policy, now=today + timedelta(days=301))
    print(late.summary())

    ok = result.verified and not tampered_result.verified and not late.verified
    banner("Result")
    print("the genuine certificate verified; the altered and the expired ones were refused"
          if ok else "UNEXPECTED: the demo did not behave as intended")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
