"""Issue 15's five resource cases, timed (not part of ``make test``; ``python bench/limits.py``).

Each case runs in its own subprocess, so its peak memory (``ru_maxrss`` of the child) is its
own. The cases:

1. a credential whose proofValue is 1 MB;
2. a credential with 10,000 copies of its (valid) proof;
3. a credential with 1,000 copies of the VC 2.0 context in its ``@context``;
4. a presentation of 5,000 credentials;
5. a 70 MB credential, read from a file by ``vc-verify credential --offline``.

Cases 1 to 4 hand a dict to the library; case 5 goes through the CLI. Printed: seconds,
peak resident memory of the child, and the report's outcome (verified / first failed
check and code).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASE = r"""
import atexit, json, resource, sys, time
atexit.register(lambda: print("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
sys.path.insert(0, {here!r})
from common import NOW, reference_credential
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_credential, sign_presentation
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.verification.pipeline import verify_credential, verify_presentation

key = KeyPair.generate("Ed25519")
credential = sign_credential(reference_credential(key), key, created="2026-01-01T00:00:00Z")
policy = TrustPolicy({{key.did: ["USMCACertificationOfOrigin"]}})
case = {case!r}
if case == "proofvalue":
    document = {{**credential, "proof": {{**credential["proof"], "proofValue": "z" + "5" * 1_000_000}}}}
elif case == "proofs":
    document = {{**credential, "proof": [credential["proof"]] * 10_000}}
elif case == "contexts":
    document = {{**credential, "@context": [credential["@context"][0]] * 1000 + credential["@context"][1:]}}
elif case == "presentation":
    small = sign_presentation([credential], key, challenge="c", domain="d", created="2026-01-01T00:00:00Z")
    document = {{**small, "verifiableCredential": [credential] * 5000}}
start = time.perf_counter()
if case == "presentation":
    result = verify_presentation(document, challenge="c", domain="d", policy=policy, now=NOW)
else:
    result = verify_credential(document, policy=policy, now=NOW)
elapsed = time.perf_counter() - start
bad = result.failures or result.errors
print(json.dumps({{"seconds": elapsed, "outcome": "verified" if result.verified else f"{{bad[0].name}}: {{bad[0].code}}"}}))
"""


CLI = r"""
import atexit, resource, sys
atexit.register(lambda: print("peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
from tradevc.verifier.cli import main
sys.argv = ["vc-verify", *sys.argv[1:]]
main()
"""


def _child(args: list[str]) -> tuple[float, float, str]:
    """Run ``args``; its seconds (wall), peak resident MB (the child prints its own
    ``ru_maxrss``) and output."""
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=HERE.parent)
    elapsed = time.perf_counter() - start
    peaks = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("peak ")]
    peak = int(peaks[-1]) / 1024 if peaks else float("nan")
    return elapsed, peak, done.stdout.strip() or done.stderr.strip()[-300:]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        prepare = (
            "import json, sys\n"
            f"sys.path.insert(0, {str(HERE)!r})\n"
            "from common import reference_credential\n"
            "from tradevc.vc.keys import KeyPair\n"
            "from tradevc.vc.securing.data_integrity import sign_credential\n"
            "key = KeyPair.generate('Ed25519')\n"
            "c = sign_credential(reference_credential(key), key, created='2026-01-01T00:00:00Z')\n"
            "item = c['credentialSubject']['goods'][0]\n"
            "size = len(json.dumps({**item, 'description': 'lot 1000000'})) + 2\n"
            "c['credentialSubject']['goods'] = [{**item, 'description': f'lot {i}'} for i in range(70_000_000 // size)]\n"
            f"open({tmp!r} + '/big.json', 'w').write(json.dumps(c))\n"
            f"open({tmp!r} + '/trust.json', 'w').write(json.dumps({{'trustedIssuers': [{{'did': key.did, 'name': 'x', 'types': ['USMCACertificationOfOrigin']}}]}}))\n"
        )
        subprocess.run([sys.executable, "-c", prepare], check=True, cwd=HERE.parent)
        size = os.path.getsize(f"{tmp}/big.json")
        elapsed, peak, out = _child([sys.executable, "-c", CLI, "credential", f"{tmp}/big.json", "--trust", f"{tmp}/trust.json", "--offline"])
        lines = out.splitlines()
        shown = next((line.strip() for line in lines if "ERROR" in line), lines[0] if lines else "")
        rows.append((f"70 MB credential ({size / 1e6:.1f} MB), vc-verify (process)", elapsed, peak, shown))
    for case, label in [
        ("proofvalue", "1 MB proofValue"), ("proofs", "10,000 copies of a valid proof"),
        ("contexts", "1,000 copies of the v2 context"), ("presentation", "presentation of 5,000 credentials"),
    ]:
        _, peak, out = _child([sys.executable, "-c", CASE.format(here=str(HERE), case=case)])
        try:
            report = json.loads(out.splitlines()[-1])
            rows.append((label, report["seconds"], peak, report["outcome"]))
        except (ValueError, IndexError, KeyError):
            rows.append((label, float("nan"), peak, out))
    print(f"{'case':45} {'seconds':>8} {'peak MB':>8}  outcome")
    for label, seconds, peak, outcome in rows:
        print(f"{label:45} {seconds:8.2f} {peak:8.0f}  {outcome}")


if __name__ == "__main__":
    main()
