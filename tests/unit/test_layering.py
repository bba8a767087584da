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


def test_the_root_package_loads_the_desks_only_when_asked():
    code = (
        "import sys, tradevc; tradevc.KeyPair, tradevc.verify_credential, tradevc.TrustPolicy;"
        "bad = [m for m in ('click', 'tradevc.issuer', 'tradevc.verifier', 'tradevc.wallet') if m in sys.modules];"
        "tradevc.Verifier; late = [m for m in ('tradevc.verifier',) if m in sys.modules];"
        "print(','.join(bad) + '|' + ','.join(late))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "|tradevc.verifier"


def imported_modules(path) -> set[str]:
    """Every module a file imports, at any level (under TYPE_CHECKING and in functions too);
    relative imports as written (``.service``)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            if not node.module:  # from . import service
                names.update(base + alias.name for alias in node.names)
    return names


def test_batch_does_not_import_the_verifier_service():
    """verifier.service calls verifier.batch; batch takes any DocumentVerifier instead of
    importing Verifier, so the dependency goes one way."""
    from conftest import ROOT

    batch = imported_modules(ROOT / "verifier" / "batch.py")
    assert not {".service", "tradevc.verifier.service", "tradevc.verifier", "."} & batch, sorted(batch)
    assert ".batch" in imported_modules(ROOT / "verifier" / "service.py")


def test_a_batch_needs_only_a_document_verifier():
    """Any object with DocumentVerifier's one method will do: each document goes to
    ``verify_document`` once, with the challenge and domain (the pipeline tells a presentation
    from a credential as it picks the securing mechanism)."""
    from tradevc.vc.report import CheckResult, VerificationResult
    from tradevc.verifier.batch import iter_verify_many

    calls = []

    class Recorder:
        def verify_document(self, document, *, challenge=None, domain=None):
            calls.append((document["id"], challenge, domain))
            report = VerificationResult()
            if document["id"] == "urn:c1":
                report.add(CheckResult.passed("structure"))
            return report

    documents = [
        {"id": "urn:c1", "type": ["VerifiableCredential"]},
        {"id": "urn:p1", "type": ["VerifiablePresentation"]},
    ]
    reports = list(iter_verify_many(Recorder(), documents, workers=1, challenge="c-1", domain="cbp.gov"))
    assert calls == [("urn:c1", "c-1", "cbp.gov"), ("urn:p1", "c-1", "cbp.gov")]
    assert [r.verified for r in reports] == [True, False]
