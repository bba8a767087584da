"""``make demo`` runs in the test suite, so it cannot silently break: the same code, the same
expectations (it returns 0 only if every step behaved as described)."""

from __future__ import annotations

import importlib.util
import re
from datetime import datetime
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def test_the_border_demo_end_to_end(tmp_path):
    spec = importlib.util.spec_from_file_location("tradevc_demo", SCRIPT)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    lines: list[str] = []
    assert demo.main(out=lines.append, output=tmp_path) == 0, "\n".join(lines)
    text = "\n".join(lines)
    # the product's table and verdict (tradevc.verifier.describe, as vc-verify presentation prints them)
    assert "PRESENTATION VERIFIED: every document is genuine, current, unrevoked and from a trusted issuer." in text
    flat = " ".join(text.split())
    assert "PRESENTATION NOT VERIFIED: the USMCA certification of origin urn:uuid:" in flat
    assert "from Aceros del Norte S.A. de C.V., export office is revoked (revocation: revoked by the issuer" in flat
    assert "The mill test report urn:uuid:" in flat and " are fine." in flat
    certification_rows = [line.split()[5:] for line in text.splitlines() if line.strip().startswith("2  USMCA certification")]
    assert certification_rows == [["ok", "ok", "ok", "ok", "ok", "VERIFIED"],
                                  ["ok", "ok", "FAIL", "ok", "ok", "NOT", "VERIFIED"]]
    assert "Every step behaved as described" in text
    # the issuers' own hosts (did:web:mill.example...) are read from the local server through the public mirror
    assert "did:web:mill.example" in text and "did:web:producer.example" in text
    assert "read from the mirror, as each report says: 4 DID documents, 8 status lists" in text
    # customs trusts the business register, which anchors the mill and the producer, not the mills
    assert "importer presents 3 credentials and the 2 anchors of their issuers" in text
    assert "anchors: 2 of 2 verified" in text
    assert "anchored by MID MXACEDEL1234SAN  (IdentityAnchorCredential urn:uuid:" in text
    assert ("trusted for: MillTestReportCredential, TransformationEventCredential, USMCACertificationOfOrigin "
            "(root in border-policy.json)") in text
    assert "issuer did:web:mi11.example has no trust path: NO_ANCHOR" in text
    assert "issuer: did:web:mi11.example (not in your trust policy)" in text
    # the signed pack verifies the presentation with the sites gone, and its rebuild shows the revocation
    assert 'OK   trust_pack: pack "port-of-laredo" version 1' in text
    assert "newly set (revocation)" in text
    # the border post with no network: vc-verify --offline --snapshot, over the same files
    assert "vc-verify credential mill.json --offline --snapshot <the sites>: VERIFIED" in text
    assert "vc-verify credential producer.json --offline --snapshot <the sites>: NOT VERIFIED" in text
    assert "did:web:mill.example resolved from snapshot " in text
    # customs decides on an entry (accepted, quantities recorded), and rejects a second one on the same documents
    # CBP's importer records anchor the wallet's DID to the importer number
    assert "ENTRY LRD-2026001-4 importer 76-1234567 (anchored by U.S. CBP importer records (Form 5106))" in text
    heads = [line.strip() for line in text.splitlines() if line.strip().startswith("ENTRY ")]
    assert [(h.split()[1], h.rsplit("decision: ", 1)[1]) for h in heads] == [
        ("LRD-2026001-4", "ACCEPT"), ("LRD-2026002-2", "REJECT"),
        ("LRD-2026003-0", "REJECT"), ("LRD-2026004-8", "ACCEPT"), ("LRD-2026005-5", "REVIEW")]
    assert "[steel.melt-pour.matches-mill] melted and poured in MX (mill test report " in text
    assert "country of melt and pour declared CN, misdeclared" in text
    assert "[sima.licence.single-use]" in text and "[quantity.heat]" in text
    # the demo ends with entries: a transshipment (pipe finished in MX from heats the melt shop in
    # China melted and poured, declared MX) is rejected on the melt shop's report, over an intact path
    assert "REJECT [steel.melt-pour.matches-mill] melted and poured in CN (mill test report " in text
    assert ("heats H26-C7731, H26-C7732, upstream of the line's documents): country of melt and pour declared MX, "
            "misdeclared") in text
    melt_shop_report = next(line.split()[-1] for line in lines if "melt shop (Jiangsu, China): mill test report" in line)
    assert f"evidence {melt_shop_report}#/credentialSubject/product/0/originalCountryOfMeltAndPour = CN" in text
    assert "supply.path-intact" not in text
    # ... and a single-shipment certification of 50 t: 30 t accepted, another 30 t sent to review naming the first
    assert "REVIEW [quantity.certification] certificate urn:uuid:" in text
    assert "certifies 50000 kg; entry LRD-2026004-8 drew 30000 kg; this entry draws 30000 kg" in text
    assert "evidence ledger: earlier entry = LRD-2026004-8" in text
    # the HTML reports are kept in the output folder, and the demo ends with the decisions
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "entry-LRD-2026003-0.html", "entry-LRD-2026004-8.html", "entry-LRD-2026005-5.html"]
    assert "<title>Entry LRD-2026003-0: REJECT</title>" in (tmp_path / "entry-LRD-2026003-0.html").read_text()
    assert f"HTML report: {tmp_path / 'entry-LRD-2026003-0.html'}" in text
    # vc-verify entry --evidence seals the evidence of the first entry's decision with customs' own key, made by
    # vc-verify evidence-key init
    seal_key = next(line.split(": ", 1)[1] for line in lines if "customs' evidence key (vc-verify evidence-key init)" in line)
    assert seal_key.startswith("did:key:z6Mk")
    sealed = re.search(r"sealed evidence of the decision \(vc-verify entry --evidence\), verified at (\S+Z): "
                       r"LRD-2026001-4\.evidence\.json", text)
    assert sealed, text
    entry_moment = datetime.fromisoformat(sealed.group(1).replace("Z", "+00:00"))
    # years later: the certificate of origin is revoked now ...
    audit = text[text.index("17. Years later, an audit"):text.index("The entries customs decided")]
    assert "now: vc-verify credential producer.json: NOT VERIFIED" in audit
    assert "FAIL revocation (https://producer.example/status/revocation/1#" in audit and "[REVOKED]" in audit
    # ... but the producer's history shows the version in effect at the entry, before the revocation's
    period = re.search(r"version 1, in effect (\S+) \.\. (\S+), covers the entry verified at (\S+); "
                       r"the revocation came in version 2", audit)
    assert period, audit
    start, end_, moment = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in period.groups())
    assert start <= moment < end_ and moment == entry_moment
    # the sites shut down, the live check cannot verify; the archive finds the bundle by entry number
    for site in ("mill", "producer"):  # Aceros del Norte's sites run vc-issuer serve-site, stopped for the audit
        assert f"did:web:{site}.example  (vc-issuer serve-site at https://localhost:" in text
    assert ("Aceros del Norte closes: its sites' vc-issuer serve-site processes (mill.example, producer.example) "
            "are stopped,") in audit
    assert "and vc-verify credential can no longer verify the certification (exit 3):" in audit
    assert "[STATUS_RETRIEVAL_ERROR]" in audit and "refused the connection" in audit
    assert "vc-verify archive search --entry-number LRD-2026001-4: bundle " in audit
    # the replay, offline, from the bundle alone: the same decision, the certificate verified as it was then
    assert "SAME DECISION: ACCEPT, as recorded" in audit and "no difference, check by check" in audit
    assert f"entry verified as of {period.group(3)}, sealed " in audit and f"by {seal_key}#" in audit
    assert "nothing else was read" in audit
    assert "the certification of origin in the replayed decision: verified, its status read from the list recorded" in audit
    # one changed name in the bundle: refused, exit 2
    assert "LRD-2026001-4.tampered.json: the bundle does not match its seal" in audit
    end = text[text.index("The entries customs decided"):].splitlines()
    assert [row.split()[:2] for row in end[2:7]] == [
        ["LRD-2026001-4", "ACCEPT"], ["LRD-2026002-2", "REJECT"], ["LRD-2026003-0", "REJECT"],
        ["LRD-2026004-8", "ACCEPT"], ["LRD-2026005-5", "REVIEW"]]


def test_the_demo_fails_loudly_when_a_step_misbehaves(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("tradevc_demo_broken", SCRIPT)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    # the producer "forgets" to publish after revoking: customs must still see a valid certificate,
    # so the demo's expectation (revoked) fails and it says so with exit status 1
    real = demo.Demo.issuer

    def forgetful(self, key, *args, expect=0):
        if key == "producer" and args[:1] == ("revoke",):
            self.revoked_but_not_published = True
            return real(self, key, *args, expect=expect)
        if key == "producer" and args[:1] == ("publish",) and getattr(self, "revoked_but_not_published", False):
            return ""
        return real(self, key, *args, expect=expect)

    monkeypatch.setattr(demo.Demo, "issuer", forgetful)
    lines: list[str] = []
    assert demo.main(out=lines.append, output=tmp_path) == 1
    assert "DEMO FAILED: after the revocation the report is not as expected" in "\n".join(lines)

