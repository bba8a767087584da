"""Benchmark: customs verifying a presentation (holder proof eddsa-jcs-2022) of 4 credentials (mill test report, USMCA
certificate, import license, invoice) from a did:web issuer whose DID document and status
lists are served by a local HTTPS server (tests/support), with warm caches (one long-lived
Verifier) and cold caches (a new Verifier per presentation), against the Ed25519 floor."""

from __future__ import annotations

import statistics
import time

from common import TRADE_TYPES, floor, trade_issuer

from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.wallet import sign_presentation


def median_time(fn, runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> int:
    floor_time = median_time(lambda: [floor() for _ in range(1000)], 7) / 1000

    with trade_issuer() as issuer:
        credentials = [issuer.issue(type_name) for type_name in TRADE_TYPES]
        issuer.publish()
        # The holder signs with eddsa-jcs-2022: with eddsa-rdfc-2022 a presentation holding a
        # multi-heat mill test report exceeds the RDFC work limit (each credential becomes a
        # blank-node graph related to all its nodes; see the session note on issue 3).
        vp = sign_presentation(credentials, KeyPair.generate("Ed25519"), challenge="c", domain="cbp.gov",
                               cryptosuite="eddsa-jcs-2022")
        policy = TrustPolicy({issuer.did: list(TRADE_TYPES)})
        session = issuer.server.session()
        allow = issuer.server.allow_hosts  # the local server is on loopback
        warm = Verifier(policy=policy, session=session, allow_hosts=allow)
        assert warm.verify_presentation(vp, challenge="c", domain="cbp.gov").verified
        single = Verifier(policy=policy, session=session, allow_hosts=allow)
        single.verify_credential(credentials[1])
        t_single = median_time(lambda: single.verify_credential(credentials[1]), 7)
        t_warm = median_time(lambda: warm.verify_presentation(vp, challenge="c", domain="cbp.gov"), 7)
        t_cold = median_time(
            lambda: Verifier(policy=policy, session=issuer.server.session(), allow_hosts=allow).verify_presentation(
                vp, challenge="c", domain="cbp.gov"), 5)
    print(f"Ed25519 verify floor: {floor_time * 1000:.3f} ms")
    for name, t in [("one credential (USMCA), warm caches", t_single),
                    ("presentation of 4 credentials, warm caches", t_warm),
                    ("presentation of 4 credentials, cold caches (local HTTPS)", t_cold)]:
        print(f"{name:58} {t * 1000:8.1f} ms {t / floor_time:8.0f}x")
    print(f"presentation of 4 / one credential, warm: {t_warm / t_single:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
