"""Benchmark: the table of issue 8, every figure measured in this one run.

Times are per verification, warm process (contexts, keys and DID documents cached) unless
the row says otherwise. Each row reports the median, min and max of several samples (a
sample is the mean over a batch of calls) and its ratio, computed from the medians, to the
row's baseline: the Ed25519 signature check of ``cryptography`` (the floor), or the row it
names. The table is printed and written as JSON to ``bench/results/`` (a timestamped file
and ``latest.json``). Run with ``make bench``.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from issuer import sign_credential  # noqa: E402
from vc.keys import KeyPair  # noqa: E402
from verifier import TrustPolicy, Verifier, verify_credential  # noqa: E402

REFERENCE = HERE / "usmca-certification-of-origin.json"
RESULTS = HERE / "results"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
POLICY = TrustPolicy.unsafe_any_issuer()


def samples(fn: Callable[[], object], batch: int, runs: int = 7) -> list[float]:
    """``runs`` samples of the mean seconds per call over ``batch`` calls, after a warm-up call."""
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        out.append((time.perf_counter() - start) / batch)
    return out


def reference(key: KeyPair, goods: int = 2) -> dict[str, Any]:
    credential = json.loads(REFERENCE.read_text(encoding="utf-8"))
    credential["issuer"]["id"] = key.did
    del credential["credentialStatus"]  # no status list here: every check runs and passes
    items = credential["credentialSubject"]["goods"]
    if goods != len(items):
        credential["credentialSubject"]["goods"] = [
            {**copy.deepcopy(items[i % 2]), "description": f"{items[i % 2]['description']}, lot {i}"}
            for i in range(goods)
        ]
    return credential


def signed(suite: str, key_type: str, goods: int = 2) -> dict[str, Any]:
    key = KeyPair.generate(key_type)
    return sign_credential(reference(key, goods), key, cryptosuite=suite, created="2026-01-01T00:00:00Z")


def verify(document: dict[str, Any]) -> Callable[[], object]:
    def run() -> object:
        result = verify_credential(document, policy=POLICY, now=NOW)
        assert result.verified, result.summary()
        return result
    return run


def presentation_rows() -> tuple[list[float], list[float], list[float]]:
    """The USMCA credential, a presentation of 4 (holder proof eddsa-jcs-2022), and the mean of
    its 4 credentials verified one by one, from a did:web issuer with status lists on a local
    HTTPS server, one long-lived Verifier (warm caches). The 4 credentials differ in size (the
    mill test report is the largest), so the presentation is compared with both."""
    from support.https_server import start

    from issuer import Issuer
    from issuer.credential_types import load_example
    from wallet import sign_presentation

    types = {"MillTestReportCredential": False, "USMCACertificationOfOrigin": True,
             "SIMASteelImportLicenseCredential": True, "CommercialInvoiceCredential": False}
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
                for t, needs_end in types.items()
            ]
            issuer.publish(server.root)
            issuer.close()
            vp = sign_presentation(credentials, KeyPair.generate("Ed25519"), challenge="c", domain="cbp.gov",
                                   cryptosuite="eddsa-jcs-2022")
            verifier = Verifier(policy=TrustPolicy({issuer.did: list(types)}), session=server.session())
            assert verifier.verify_presentation(vp, challenge="c", domain="cbp.gov").verified
            single = samples(lambda: verifier.verify_credential(credentials[1]), 20)
            four = samples(lambda: verifier.verify_presentation(vp, challenge="c", domain="cbp.gov"), 5)
            each = samples(lambda: [verifier.verify_credential(c) for c in credentials], 5)
        finally:
            stop()
    return single, four, [t / len(credentials) for t in each]


def batch_rows(count: int = 2000) -> tuple[list[float], list[float]]:
    """Seconds to verify ``count`` distinct credentials with verify_many, 1 and 2 workers."""
    key = KeyPair.generate("Ed25519")
    template = reference(key)
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

    run(1)
    one, two = [], []
    for _ in range(3):
        one.append(run(1))
        if hasattr(verifier, "verify_many"):
            two.append(run(2))
    return one, two


def cold_cli_rows(runs: int = 5) -> list[float]:
    """Wall seconds of ``vc-verify credential FILE --offline`` as a new process."""
    key = KeyPair.generate("Ed25519")
    document = sign_credential(reference(key), key, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    document.pop("validUntil", None)
    document = sign_credential({k: v for k, v in document.items() if k != "proof"}, key,
                               cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path, trust = Path(tmp) / "credential.json", Path(tmp) / "trust.json"
        path.write_text(json.dumps(document))
        trust.write_text(json.dumps({"trustedIssuers": [
            {"did": key.did, "name": "Bench", "types": ["USMCACertificationOfOrigin"]}]}))
        command = [sys.executable, "-c", "from verifier.cli import main; main()",
                   "credential", str(path), "--trust", str(trust), "--offline"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            out.append(time.perf_counter() - start)
            assert done.returncode == 0, done.stdout + done.stderr
    return out


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def row(name: str, values: list[float], baseline: str, base: list[float], target: str, unit: str = "ms") -> dict:
    if not values:
        return {"measure": name, "unit": unit, "median": None, "min": None, "max": None, "baseline": baseline,
                "ratio": None, "target": target}
    median = statistics.median(values)
    scale = 1000 if unit == "ms" else 1
    return {"measure": name, "unit": unit, "median": median * scale, "min": min(values) * scale,
            "max": max(values) * scale, "baseline": baseline, "ratio": median / statistics.median(base),
            "target": target}


def main() -> int:
    private = Ed25519PrivateKey.generate()
    public, message = private.public_key(), bytes(64)
    signature = private.sign(message)
    floor = samples(lambda: public.verify(signature, message), 2000)

    rdfc = samples(verify(signed("eddsa-rdfc-2022", "Ed25519")), 50)
    p384 = samples(verify(signed("ecdsa-rdfc-2019", "P-384")), 50)
    jcs = samples(verify(signed("eddsa-jcs-2022", "Ed25519")), 100)
    grown = samples(verify(signed("eddsa-rdfc-2022", "Ed25519", goods=500)), 1, runs=5)
    single, four, mean_single = presentation_rows()
    one, two = batch_rows()
    cold = cold_cli_rows()

    rows = [
        row("Ed25519 verify, cryptography (floor)", floor, "floor", floor, ""),
        row("eddsa-rdfc-2022 verify, reference certificate of origin", rdfc, "floor", floor, "<= 10x"),
        row("ecdsa-rdfc-2019 P-384 verify, same credential", p384, "floor", floor, "<= 14x"),
        row("eddsa-jcs-2022 verify, same credential", jcs, "floor", floor, "<= 2x"),
        row("growth: 500 goods items (eddsa-rdfc-2022)", grown, "2-item verify", rdfc, "<= 60x"),
        row("presentation of 4 credentials, caches warm / USMCA alone", four, "USMCA credential alone",
            single, "<= 4.5x"),
        row("presentation of 4 credentials, caches warm / mean of the 4", four,
            "mean of its 4 credentials alone", mean_single, "<= 4.5x"),
        row("  (USMCA credential, did:web + status list, caches warm)", single, "floor", floor, ""),
        row("  (mean of the 4 credentials verified alone, caches warm)", mean_single, "floor", floor, ""),
        row("batch of 2,000 credentials, 2 worker processes", two, "1 worker (speed-up = 1/ratio)", one,
            ">= 1.8x faster", unit="s"),
        row("  (batch of 2,000 credentials, 1 worker)", one, "floor", floor, "", unit="s"),
        row("vc-verify credential FILE, whole process, cold", cold, "1.0 s", [1.0], "<= 1.0 s", unit="s"),
    ]
    info = machine()
    print(f"tradevc bench, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {info['cpu']}, {info['cores']} cores, "
          f"Python {info['python']}; medians (min-max) of 3-7 samples")
    print(f"{'measure':58} {'median':>10} {'min':>9} {'max':>9}  {'ratio':>8}  {'target':>14}  baseline")
    for r in rows:
        u = r["unit"]
        if r["median"] is None:
            print(f"{r['measure']:58} {'n/a':>10}")
            continue
        ratio = f"{r['ratio']:7.2f}x" if r["baseline"] != "floor" or r["measure"][0] != "E" else "    1.0x"
        if r["measure"].startswith("batch"):
            ratio = f"{1 / r['ratio']:6.2f}x+"
        print(f"{r['measure']:58} {r['median']:7.3f} {u:2} {r['min']:9.3f} {r['max']:9.3f}  {ratio:>8}  "
              f"{r['target']:>14}  {r['baseline']}")
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
