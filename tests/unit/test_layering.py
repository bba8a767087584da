"""The library does not depend on its applications or on click."""

from __future__ import annotations

import subprocess
import sys


def test_importing_vc_pulls_in_no_application_code():
    code = (
        "import sys, tradevc.vc, tradevc.vc.verification, tradevc.vc.jsonld, tradevc.vc.keys, tradevc.vc.rdfc,"
        " tradevc.vc.retrieval.did.key, tradevc.vc.securing.proofs.eddsa_rdfc_2022;"
        "bad = [m for m in ('click', 'tradevc.issuer', 'tradevc.verifier', 'tradevc.wallet') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
