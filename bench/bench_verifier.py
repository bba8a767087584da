"""Benchmark: customs verifying a presentation (holder proof eddsa-jcs-2022) of 4 credentials (mill test report, USMCA
certificate, import license, invoice) from a did:web issuer whose DID document and status
lists are served by a local HTTPS server (tests/support), with warm caches (one long-lived
Verifier) and cold caches (a new Verifier per presentation), against the Ed25519 floor."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.https_server import start  # noqa: E402

from issuer import Issuer  # noqa: E402
from issuer.credential_types import load_example  # noqa: E402
from vc.keys import KeyPair  # noqa: E402
from verifier import TrustPolicy, Verifier  # noqa: E402
from wallet import sign_presentation  # noqa: E402

TYPES = {
    "MillTestReportCredential": False, "USMCACertificationOfOrigin": True,
    "SIMASteelImportLicenseCredential": True, "CommercialInvoiceCredential": False,
}


def median_time(fn, runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> int:
    private = Ed25519PrivateKey.generate()
    message, public = bytes(64), private.public_key()
    signature = private.sign(message)
    floor = median_time(lambda: [public.verify(signature, message) for _ in range(1000)], 7) / 1000

    now = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        server, stop = start(Path(tmp))
        try:
            issuer = Issuer.init(f"{tmp}/issuer", b"bench", name="Bench", did_web_domain=server.host,
                                 status_base_url=server.url("status/"))
            credentials = [
                issuer.issue(load_example(t), type_name=t, valid_from=stamp(now - timedelta(days=1)),
                             valid_until=stamp(now + timedelta(days=300)) if needs_end else None)
                for t, needs_end in TYPES.items()
            ]
            issuer.publish(server.root)
            issuer.close()
            # The holder signs with eddsa-jcs-2022: with eddsa-rdfc-2022 a presentation holding a
            # multi-heat mill test report exceeds the RDFC work limit (each credential becomes a
            # blank-node graph related to all its nodes; see the session note on issue 3).
            vp = sign_presentation(credentials, KeyPair.generate("Ed25519"), challenge="c", domain="cbp.gov",
                                   cryptosuite="eddsa-jcs-2022")
            policy = TrustPolicy({issuer.did: list(TYPES)})
            warm = Verifier(policy=policy, session=server.session())
            assert warm.verify_presentation(vp, challenge="c", domain="cbp.gov").verified
            single = Verifier(policy=policy, session=server.session())
            single.verify_credential(credentials[1])
            t_single = median_time(lambda: single.verify_credential(credentials[1]), 7)
            t_warm = median_time(lambda: warm.verify_presentation(vp, challenge="c", domain="cbp.gov"), 7)
            t_cold = median_time(
                lambda: Verifier(policy=policy, session=server.session()).verify_presentation(
                    vp, challenge="c", domain="cbp.gov"), 5)
        finally:
            stop()
    print(f"Ed25519 verify floor: {floor * 1000:.3f} ms")
    for name, t in [("one credential (USMCA), warm caches", t_single),
                    ("presentation of 4 credentials, warm caches", t_warm),
                    ("presentation of 4 credentials, cold caches (local HTTPS)", t_cold)]:
        print(f"{name:58} {t * 1000:8.1f} ms {t / floor:8.0f}x")
    print(f"presentation of 4 / one credential, warm: {t_warm / t_single:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
