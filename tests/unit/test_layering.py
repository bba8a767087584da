"""The library does not depend on its applications or on click."""

from __future__ import annotations

import subprocess
import sys


def test_importing_vc_pulls_in_no_application_code():
    code = (
        "import sys, vc, vc.credentials, vc.jsonld, vc.keys, vc.rdfc, vc.did.key, vc.proofs.eddsa_rdfc_2022;"
        "bad = [m for m in ('click', 'issuer', 'verifier', 'wallet') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
