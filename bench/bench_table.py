"""Benchmark: the table of issue 8, every figure measured in this one run.

Times are per verification, warm process (contexts, keys and DID documents cached) unless
the row says otherwise. Each row reports the median, min and max of several samples (a
sample is the mean over a batch of calls) and its ratio to the row's baseline: the Ed25519
signature check of ``cryptography`` (the floor), or the measure it names. Every sample is
taken right after a sample of its baseline and the ratio is the median of those pairs' ratios,
so that the host's speed drifting during the run (this machine shares its host) moves both
sides of a ratio alike. The table is printed and written as JSON to ``bench/results/`` (a timestamped file
and ``latest.json``). Run with ``make bench``.

The last rows (issue 19) are a real ``tradevc-serve`` answering ``POST /credentials/verify``
over keep-alive HTTP, against ``verify_many`` with 2 workers in this process: see
``bench/bench_service.py``.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import bench_reverify
import bench_service
from common import HERE, NOW, TRADE_TYPES, floor, machine, mean_seconds, reference_credential, samples, trade_issuer

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier, verify_credential

RESULTS = HERE / "results"
POLICY = TrustPolicy.unsafe_any_issuer()
FLOOR = floor


def paired(
    measure: Callable[[], object], batch: int, baseline: Callable[[], object], base_batch: int, *, runs: int = 15,
    base_calls: int = 1,
) -> tuple[list[float], list[float]]:
    """``runs`` samples of ``measure``, each taken right after a sample of ``baseline``: the
    seconds per call of ``measure`` and the ratio of each pair. The machine's speed drifts
    during a run (other tenants of the host, clock frequency); a ratio of two adjacent
    samples moves much less than a ratio of medians taken minutes apart. ``base_calls`` is
    how many verifications one call of ``baseline`` makes (its time is divided by it)."""
    measure(), baseline()
    times, ratios = [], []
    for _ in range(runs):
        base = mean_seconds(baseline, base_batch) / base_calls
        value = mean_seconds(measure, batch)
        times.append(value)
        ratios.append(value / base)
    return times, ratios


def signed(suite: str, key_type: str, goods: int = 2) -> dict[str, Any]:
    key = KeyPair.generate(key_type)
    return sign_credential(reference_credential(key, goods=goods), key, cryptosuite=suite,
                           created="2026-01-01T00:00:00Z")


def verify(document: dict[str, Any]) -> Callable[[], object]:
    def run() -> object:
        result = verify_credential(document, policy=POLICY, now=NOW)
        assert result.verified, result.summary()
        return result
    return run


def presentation_rows() -> dict[str, tuple[list[float], list[float]]]:
    """Presentations verified by one long-lived Verifier (warm caches), against a did:web issuer
    with status lists on a local HTTPS server; holder proof eddsa-jcs-2022 (the wallet's default).

    ``single`` is one USMCA certificate of origin, ``four`` a presentation of four such
    certificates (four shipments) against the same four certificates each verified alone, one
    after the other: the issue's row, where the presentation's own cost shows. ``four_same``
    is the presentation against one certificate verified again and again, the baseline of
    earlier runs; it favours the baseline, since verifying the document just verified reuses
    its JSON-LD conversion (the fast path remembers the last one), which four different
    credentials cannot.
    ``mixed`` is a presentation of the four trade types against the mean of those four
    verified alone (the mill test report is the largest), for comparison. Each value is
    (seconds, ratios) from :func:`paired`."""
    from tradevc.wallet import sign_presentation

    with trade_issuer() as issuer:
        credentials = [issuer.issue(type_name) for type_name in TRADE_TYPES]
        certificates = [issuer.issue("USMCACertificationOfOrigin") for _ in range(4)]
        issuer.publish()
        holder = KeyPair.generate("Ed25519")
        mixed_vp = sign_presentation(credentials, holder, challenge="c", domain="cbp.gov", cryptosuite="eddsa-jcs-2022")
        four_vp = sign_presentation(certificates, holder, challenge="c", domain="cbp.gov", cryptosuite="eddsa-jcs-2022")
        verifier = Verifier(policy=TrustPolicy({issuer.did: list(TRADE_TYPES)}), session=issuer.server.session(),
                            allow_hosts=issuer.server.allow_hosts)
        for vp in (mixed_vp, four_vp):
            assert verifier.verify_presentation(vp, challenge="c", domain="cbp.gov").verified
        single = lambda: verifier.verify_credential(certificates[0])  # noqa: E731
        return {
            "single": paired(single, 20, FLOOR, 1000),
            "four": paired(lambda: verifier.verify_presentation(four_vp, challenge="c", domain="cbp.gov"), 5,
                           lambda: [verifier.verify_credential(c) for c in certificates], 5,
                           base_calls=len(certificates)),
            "four_same": paired(lambda: verifier.verify_presentation(four_vp, challenge="c", domain="cbp.gov"), 5,
                                single, 20),
            "mixed": paired(lambda: verifier.verify_presentation(mixed_vp, challenge="c", domain="cbp.gov"), 5,
                            lambda: [verifier.verify_credential(c) for c in credentials], 5,
                            base_calls=len(credentials)),
        }


def trust_rows() -> tuple[list[float], list[float]]:
    """The reference certificate of origin (eddsa-rdfc-2022) whose issuer is anchored (a path of
    length 2: issuer <- identity anchor <- root registrar, the anchor in the policy's trust
    store), against the same certificate under a flat policy naming its issuer; one long-lived
    offline Verifier each, caches warm (the path is found once, then reused per issuer)."""
    from tradevc.verifier.trust import TrustPathPolicy

    registry, mill = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    certificate = sign_credential(reference_credential(mill), mill, cryptosuite="eddsa-rdfc-2022",
                                  created="2026-01-01T00:00:00Z")
    anchor = sign_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://tradevc.example/contexts/trust/v1"],
        "id": "urn:uuid:0b6f8e0a-anchor", "type": ["VerifiableCredential", "IdentityAnchorCredential"],
        "issuer": registry.did, "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": mill.did, "type": "RegisteredParty", "name": "Aceros del Norte",
                              "identifier": [{"type": "PropertyValue", "propertyID": "MID", "value": "MXACEDEL1234MON"}]},
    }, registry, created="2026-01-01T00:00:00Z")
    types = ["USMCACertificationOfOrigin"]
    anchored = Verifier.offline(policy=TrustPathPolicy.from_dict({
        "roots": [{"did": registry.did, "vouches": ["anchor"], "types": types, "schemes": ["MID"], "goods": ["72", "73"]}],
        "anchors": [anchor]}), clock=lambda: NOW)
    flat = Verifier.offline(policy=TrustPolicy({mill.did: types}), clock=lambda: NOW)

    def run(verifier: Verifier, length: int) -> Callable[[], object]:
        def once() -> object:
            result = verifier.verify_credential(certificate)
            assert result.verified, result.summary()
            assert length == 1 or result.check("issuer_trust").data["trustPath"]["length"] == length
            return result
        return once

    return paired(run(anchored, 2), 50, run(flat, 1), 50)


def jose_rows() -> tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    """vc+jwt EdDSA (the reference credential): the whole verify_credential, and the securing
    step alone (split the token, check the header, verify the signature with the key)."""
    from tradevc.vc.retrieval.did.resolver import DidResolvers
    from tradevc.vc.securing.jose import sign_credential_jwt
    from tradevc.vc.securing.jws import check_header, parse_compact_jws, verify_signature

    key = KeyPair.generate("Ed25519")
    token = sign_credential_jwt(reference_credential(key), key)
    resolvers = DidResolvers.offline()

    def securing() -> object:
        jws = parse_compact_jws(token)
        return verify_signature(jws, check_header(jws.header), resolvers)

    return paired(verify(token), 200, FLOOR, 1000), paired(securing, 200, FLOOR, 1000)


def batch_rows(count: int = 2000) -> tuple[list[float], list[float]]:
    """Seconds to verify ``count`` distinct credentials with verify_many and 2 workers, and the
    ratio of each to the adjacent run with 1 worker."""
    key = KeyPair.generate("Ed25519")
    template = reference_credential(key)
    documents = []
    for i in range(count):
        credential = copy.deepcopy(template)
        credential["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        documents.append(sign_credential(credential, key, cryptosuite="eddsa-rdfc-2022",
                                         created="2026-01-01T00:00:00Z"))
    verifier = Verifier.offline(policy=POLICY, clock=lambda: NOW)

    def run(workers: int) -> float:
        start = time.perf_counter()
        if hasattr(verifier, "verify_many"):
            results = verifier.verify_many(documents, workers=workers)
        else:  # before verify_many existed: one process, one by one
            results = [verifier.verify_credential(d) for d in documents]
        elapsed = time.perf_counter() - start
        assert all(r.verified for r in results)
        return elapsed

    return paired(lambda: run(2), 1, lambda: run(1), 1, runs=5)


def cold_cli_rows(runs: int = 5) -> list[float]:
    """Wall seconds of ``vc-verify credential FILE --offline`` as a new process."""
    key = KeyPair.generate("Ed25519")
    document = sign_credential(reference_credential(key), key, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    document.pop("validUntil", None)
    document = sign_credential({k: v for k, v in document.items() if k != "proof"}, key,
                               cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path, trust = Path(tmp) / "credential.json", Path(tmp) / "trust.json"
        path.write_text(json.dumps(document))
        trust.write_text(json.dumps({"trustedIssuers": [
            {"did": key.did, "name": "Bench", "types": ["USMCACertificationOfOrigin"]}]}))
        command = [sys.executable, "-c", "from tradevc.verifier.cli import main; main()",
                   "credential", str(path), "--trust", str(trust), "--offline"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            out.append(time.perf_counter() - start)
            assert done.returncode == 0, done.stdout + done.stderr
    return out


def row(name: str, measured: tuple[list[float], list[float]], baseline: str, target: str, unit: str = "ms") -> dict:
    values, ratios = measured
    scale = 1000 if unit == "ms" else 1
    return {"measure": name, "unit": unit, "median": statistics.median(values) * scale, "min": min(values) * scale,
            "max": max(values) * scale, "baseline": baseline,
            "ratio": statistics.median(ratios) if ratios else None, "target": target}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--only", "trust"]:  # the trust path row alone (issue 16), not written to latest.json
        measured = row("anchored issuer (path of 2) vs flat policy, eddsa-rdfc-2022", trust_rows(),
                       "the same credential under a flat policy", "<= 1.3x")
        print(json.dumps(measured, indent=2))
        out = RESULTS / "issue16"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"trust-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json").write_text(
            json.dumps({"machine": machine(), "rows": [measured]}, indent=2))
        return 0
    if args:
        print("usage: bench_table.py [--only trust]", file=sys.stderr)
        return 2
    floor_samples = samples(FLOOR, 2000, 15)
    rdfc_document = signed("eddsa-rdfc-2022", "Ed25519")
    rdfc = paired(verify(rdfc_document), 50, FLOOR, 1000)
    p384 = paired(verify(signed("ecdsa-rdfc-2019", "P-384")), 50, FLOOR, 1000)
    jcs = paired(verify(signed("eddsa-jcs-2022", "Ed25519")), 100, FLOOR, 1000)
    grown = paired(verify(signed("eddsa-rdfc-2022", "Ed25519", goods=500)), 1, verify(rdfc_document), 50, runs=5)
    jwt_full, jwt_securing = jose_rows()
    vp = presentation_rows()
    batch = batch_rows()
    cold = cold_cli_rows()
    anchored = trust_rows()
    service = bench_service.measure()  # issue 19: a real tradevc-serve against verify_many, in this run
    archive = bench_reverify.measure(bundles=int(os.environ.get("REVERIFY_BUNDLES", "400")), runs=3)  # issue 20

    rows = [
        row("Ed25519 verify, cryptography (floor)", (floor_samples, [1.0]), "floor", ""),
        row("eddsa-rdfc-2022 verify, reference certificate of origin", rdfc, "floor", "<= 10x"),
        row("ecdsa-rdfc-2019 P-384 verify, same credential", p384, "floor", "<= 14x"),
        row("eddsa-jcs-2022 verify, same credential", jcs, "floor", "<= 2x"),
        row("growth: 500 goods items (eddsa-rdfc-2022)", grown, "2-item verify", "<= 60x"),
        row("vc+jwt EdDSA verify, same credential", jwt_full, "floor", "<= 1.5x"),
        row("  (vc+jwt EdDSA: split, header, signature only)", jwt_securing, "floor", ""),
        row("presentation of 4 certificates of origin, caches warm", vp["four"],
            "one certificate alone (the 4, one after the other)", "<= 4.5x"),
        row("  (the same, against one certificate verified repeatedly)", vp["four_same"],
            "one certificate alone (the same one)", ""),
        row("  (one certificate, did:web + status lists, caches warm)", vp["single"], "floor", ""),
        row("  (presentation of the 4 trade types, caches warm)", vp["mixed"], "mean of its 4 credentials alone", ""),
        row("batch of 2,000 credentials, 2 worker processes", batch, "1 worker (speed-up = 1/ratio)",
            ">= 1.8x faster", unit="s"),
        row("vc-verify credential FILE, whole process, cold", (cold, [c / 1.0 for c in cold]), "1.0 s", "<= 1.0 s",
            unit="s"),
        row("anchored issuer (path of 2) vs flat policy, eddsa-rdfc-2022", anchored,
            "the same credential under a flat policy", "<= 1.3x"),
        *bench_service.table_rows(service),
        *bench_reverify.table_rows(archive),
    ]
    info = machine()
    print(f"tradevc bench, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {info['cpu']}, {info['cores']} cores, "
          f"Python {info['python']}; medians (min-max) of 5-15 samples; a ratio is the median of the ratios of "
          "samples taken back to back with their baseline")
    print(f"{'measure':58} {'median':>10} {'min':>9} {'max':>9}  {'ratio':>8}  {'target':>14}  baseline")
    for r in rows:
        u = r["unit"]
        if r["median"] is None:
            print(f"{r['measure']:58} {'n/a':>10}")
            continue
        if r["ratio"] is None:  # a figure against its target alone (the service's p99)
            ratio = ""
        else:
            ratio = f"{r['ratio']:7.2f}x" if r["baseline"] != "floor" or r["measure"][0] != "E" else "    1.0x"
        if r["measure"].startswith("batch"):
            ratio = f"{1 / r['ratio']:6.2f}x+"
        print(f"{r['measure']:58} {r['median']:7.3f} {u:5} {r['min']:9.3f} {r['max']:9.3f}  {ratio:>8}  "
              f"{r['target']:>14}  {r['baseline']}")
    for note in sorted({r["note"] for r in rows if r.get("note")}):
        print(f"note: {note}")
    RESULTS.mkdir(exist_ok=True)
    payload = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": info, "rows": rows}
    text = json.dumps(payload, indent=2)
    name = os.environ.get("BENCH_RESULT_NAME")
    if name:  # e.g. figures of an older commit: that file only
        (RESULTS / f"{name}.json").write_text(text)
    else:
        (RESULTS / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json").write_text(text)
        (RESULTS / "latest.json").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
