"""The tradevc demo: a shipment of line pipe at the border, end to end, on this machine.

1. A local HTTPS server (throwaway CA, 127.0.0.1) mirrors the issuers' websites: their DIDs
   name their own hosts (did:web:mill.example...), and a mirror file (vc.mirror) tells the
   wallet and customs to read those hosts from the local server, with every check unchanged.
2. Three issuers, each with its own did:web identity, use ``vc-issuer``: the steel mill issues a
   mill test report, the Mexican producer a USMCA certification of origin (both with Data
   Integrity proofs), the U.S. licensing office a SIMA steel import license (an ES384 vc+jwt);
   each publishes its DID document and status lists. A Mexican business register, a fourth
   issuer, anchors the mill's and the producer's DIDs to their CBP manufacturer IDs
   (``IdentityAnchorCredential``).
3. The importer keeps them and the anchors in its ``vc-wallet`` (which verifies each before
   storing it) and presents them to customs, bound to customs' challenge and domain; the
   wallet adds the anchors of the issuers it presents.
4. Customs trusts the register (a root of its policy) and the licensing office, not the mills:
   it verifies the presentation with ``Verifier.verify_presentation`` and prints every check
   per credential, and the trust path of each issuer. It decides on an entry of those goods
   (``Verifier.verify_entry``: ACCEPT, its quantities recorded in a ledger), and rejects a second
   entry that declares another melt-and-pour country and reuses the licence and the heats. A
   look-alike mill with no anchor is refused, with the reason.
5. Customs builds a signed offline trust pack; with the sites gone, the border post verifies
   the same presentation from the pack alone.
6. The producer revokes the certificate of origin and publishes; customs verifies again: the
   certificate shows as revoked, the others as valid, the presentation as not verified; the
   rebuilt pack's diff shows the revocation.
7. A border post with no network verifies with ``vc-verify --offline --snapshot``, reading the
   issuers' DID documents and status lists from a snapshot of their sites.

Run with ``make demo``; ``tests/integration/test_demo.py`` runs the same code. It exits 0 only if
every step behaved as described, and removes everything it made.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the local HTTPS server with a throwaway CA lives with the tests

from support.https_server import start  # noqa: E402
from tradevc.vc.securing.jose import credential_of  # noqa: E402
from tradevc.vc.retrieval.mirror import Mirror  # noqa: E402
from tradevc.vc.report import VerificationResult  # noqa: E402
from tradevc.verifier import PresentationResult, Verifier  # noqa: E402
from tradevc.verifier.entry import Decision, RuleSet  # noqa: E402
from tradevc.verifier.ledger import open_ledger  # noqa: E402
from tradevc.verifier.trust import describe_path, load_policy  # noqa: E402

EXAMPLES = ROOT / "issuer" / "examples"
CUSTOMS_DOMAIN = "cbp.gov"
MARKS = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "skipped": "-"}

ISSUERS = [
    # key, legal name, credential type, example subject, validity in days, short label, how it is secured
    ("mill", "Aceros del Norte S.A. de C.V., Santa Catarina mill", "MillTestReportCredential",
     "mill-test-report.subject.json", 365, "Mill test report", "Ed25519 eddsa-rdfc-2022"),
    ("producer", "Aceros del Norte S.A. de C.V., export office", "USMCACertificationOfOrigin",
     "usmca-certification-of-origin.subject.json", 300, "USMCA cert. of origin", "Ed25519 eddsa-rdfc-2022"),
    ("licensing", "U.S. Department of Commerce, SIMA licensing", "SIMASteelImportLicenseCredential",
     "sima-steel-import-license.subject.json", 75, "SIMA import license", "P-384 vc+jwt"),
]
JOSE = {"licensing"}  # the licensing office issues ES384 vc+jwt, as the traceability interop profile asks
# The business register customs trusts as a root, the CBP manufacturer IDs it anchors, and a
# look-alike mill (did:web:mi11.example) that no register has anchored.
REGISTRAR, REGISTRAR_NAME = "registry", "Registro Publico de Comercio (business register, Mexico)"
ANCHORED = {"mill": "MXACEDEL1234SAN", "producer": "MXACEDEL500MON"}
LOOKALIKE, LOOKALIKE_NAME = "mi11", "'Aceros del Norte' at mi11.example, a look-alike"


def host(key: str) -> str:
    """The issuer's own web host, named in its did:web DID and status list URLs."""
    return f"{key}.example"


class DemoFailure(Exception):
    """A step did not behave as the demo says it should."""


class Demo:
    def __init__(self, workdir: Path, out: Callable[[str], None]) -> None:
        self.work = workdir
        self.out = out
        self.passphrase_file = workdir / "passphrase.txt"
        self.passphrase_file.write_text("demo passphrase, not for production\n", encoding="utf-8")
        self.passphrase_file.chmod(0o600)

    # -- running the command-line tools, as their users would ---------------------------------------

    def run(self, tool: str, *args: str, env: dict[str, str], expect: int = 0) -> str:
        command = [sys.executable, "-m", f"tradevc.{tool}", *args]
        proc = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        if proc.returncode != expect:
            raise DemoFailure(
                f"vc-{'wallet' if tool == 'wallet' else tool} {' '.join(args)} exited {proc.returncode} "
                f"(expected {expect}):\n{proc.stdout}{proc.stderr}"
            )
        return proc.stdout + proc.stderr

    def issuer(self, key: str, *args: str, expect: int = 0) -> str:
        env = {"TRADEVC_ISSUER_HOME": str(self.work / "issuers" / key),
               "TRADEVC_ISSUER_PASSPHRASE_FILE": str(self.passphrase_file)}
        return self.run("issuer", *args, env=env, expect=expect)

    def wallet(self, *args: str, expect: int = 0) -> str:
        env = {"TRADEVC_WALLET_HOME": str(self.work / "importer-wallet"),
               "TRADEVC_WALLET_PASSPHRASE_FILE": str(self.passphrase_file)}
        return self.run("wallet", *args, env=env, expect=expect)

    def say(self, text: str = "") -> None:
        self.out(text)

    def step(self, title: str) -> None:
        self.say()
        self.say(title)
        self.say("=" * len(title))

    # -- the story -----------------------------------------------------------------------------

    def main(self) -> None:
        started = time.monotonic()
        (self.work / "web").mkdir()
        server, stop = start(self.work / "web")
        try:
            self.story(server)
        finally:
            stop()
        self.say()
        self.say(f"Every step behaved as described ({time.monotonic() - started:.1f} s).")

    def story(self, server: Any) -> None:
        www = server.root
        today = datetime.now(timezone.utc).replace(microsecond=0)
        stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731

        self.step("1. The issuers and the business register set up their identities (did:web, over HTTPS)")
        dids: dict[str, str] = {}
        files: dict[str, Path] = {}
        ids: dict[str, str] = {}
        self.ids = ids
        everyone = [(REGISTRAR, REGISTRAR_NAME, "Ed25519"), (LOOKALIKE, LOOKALIKE_NAME, "Ed25519")] + [
            (key, name, secured.split()[0]) for key, name, _t, _e, _d, _l, secured in ISSUERS]
        self.mirror_file = self.work / "mirror.json"
        self.mirror_file.write_text(json.dumps(
            {"hosts": {host(key): server.url(f"{host(key)}/") for key, *_ in everyone}}, indent=2), encoding="utf-8")
        for key, name, key_type in everyone:
            text = self.issuer(key, "init", "--name", name, "--did-web", host(key),
                               "--status-base-url", f"https://{host(key)}/status/", "--key-type", key_type,
                               *(["--cryptosuite", "ecdsa-rdfc-2019"] if key in JOSE else []))
            dids[key] = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("DID: "))
            if key != LOOKALIKE:
                self.say(f"  {name}\n      {dids[key]}  (its site mirrored at {server.url(host(key) + '/')})")

        self.step("2. The business register anchors the mill's and the producer's DIDs to their registrations")
        anchors: dict[str, Path] = {}
        for key, mid in ANCHORED.items():
            subject = self.work / f"{key}-anchor-subject.json"
            name = next(n for k, n, *_ in ISSUERS if k == key)
            subject.write_text(json.dumps({
                "type": "RegisteredParty", "id": dids[key], "name": name,
                "identifier": [{"type": "PropertyValue", "propertyID": "MID", "value": mid}],
                "authorizedCredentialType": [t for k, _n, t, *_ in ISSUERS if k == key],
                "hsScope": ["72", "73"], "territory": ["MX"],
            }, indent=2), encoding="utf-8")
            anchors[key] = self.work / f"{key}-anchor.json"
            self.issuer(REGISTRAR, "issue", "--type", "IdentityAnchor", "--subject", str(subject),
                        "--valid-from", stamp(today - timedelta(days=30)),
                        "--valid-until", stamp(today + timedelta(days=335)), "--out", str(anchors[key]))
            anchor_id = json.loads(anchors[key].read_text(encoding="utf-8"))["id"]
            self.say(f"  {dids[key]}  =  MID {mid}   ({anchor_id})")
        self.issuer(REGISTRAR, "publish", "--out-dir", str(www / host(REGISTRAR)))

        self.step("3. Each issues its document and publishes its DID document and status lists")
        for key, _name, type_name, example, days, label, secured in ISSUERS:
            files[key] = self.work / (f"{key}.jwt" if key in JOSE else f"{key}.json")
            self.issuer(key, "issue", "--type", type_name, "--subject", str(EXAMPLES / example),
                        "--valid-from", stamp(today - timedelta(days=2)),
                        "--valid-until", stamp(today + timedelta(days=days)), "--out", str(files[key]),
                        "--format", "jose" if key in JOSE else "di")
            self.issuer(key, "publish", "--out-dir", str(www / host(key)))
            text = files[key].read_text(encoding="utf-8")
            credential = credential_of(text.strip()) if key in JOSE else json.loads(text)
            ids[key] = credential["id"]
            self.say(f"  {label:23} {credential['id']}  ({secured})")

        self.step("4. The importer adds them and the anchors to its wallet (each is verified before it is kept)")
        ca = ["--ca-bundle", str(server.ca_path), "--mirror-file", str(self.mirror_file)]
        self.say(self.indent(self.wallet("init")))
        self.say(self.indent(self.wallet("add", *[str(files[k]) for k, *_ in ISSUERS],
                                         *[str(a) for a in anchors.values()], *ca)))
        self.say(self.indent(self.wallet("list")))

        self.step("5. Customs trusts the business register and the licensing office, not each mill")
        policy_file = self.work / "border-policy.json"
        policy_file.write_text(json.dumps({
            "roots": [{"did": dids[REGISTRAR], "name": REGISTRAR_NAME, "vouches": ["anchor"], "schemes": ["MID"],
                       "types": [t for k, _n, t, *_ in ISSUERS if k in ANCHORED]}],
            "trustedIssuers": [{"did": dids[key], "name": name, "types": [type_name]}
                               for key, name, type_name, *_ in ISSUERS if key not in ANCHORED],
        }, indent=2), encoding="utf-8")
        self.say(f"  root: {REGISTRAR_NAME}, for what the parties it anchors issue: "
                 + ", ".join(t for k, _n, t, *_ in ISSUERS if k in ANCHORED))
        for key, name, type_name, *_ in ISSUERS:
            if key not in ANCHORED:
                self.say(f"  directly: {name}, for {type_name}")

        self.step("6. Entry: customs sends a challenge; the importer presents; customs verifies")
        first, vp_file, challenge = self.entry(server, ids, policy_file)
        self.table(first)
        if not first.verified:
            raise DemoFailure("the genuine presentation did not verify:\n" + first.summary())
        self.say("\n  Who vouches for each issuer (the issuer_trust check):")
        for report in self.documents(first):
            trust = report.check("issuer_trust")
            path = trust.data.get("trustPath")
            self.say(self.indent(self.indent("\n".join(describe_path(path)) if path else trust.message)))
        self.say("\n  PRESENTATION VERIFIED: every document is genuine, current, unrevoked and from a trusted issuer.")

        self.step("7. Customs decides on the entry: the rules in force on its date of import, quantities in a ledger")
        self.decide(server, ids, vp_file, challenge, policy_file)

        self.step("8. A look-alike mill, not anchored by the register, sends a mill test report")
        fake = self.work / "lookalike.json"
        self.issuer(LOOKALIKE, "issue", "--type", "MillTestReportCredential", "--subject",
                    str(EXAMPLES / "mill-test-report.subject.json"), "--out", str(fake))
        self.issuer(LOOKALIKE, "publish", "--out-dir", str(www / host(LOOKALIKE)))
        text = self.run("verifier", "credential", str(fake), "--trust", str(policy_file), *ca, env={}, expect=1)
        if not text.startswith("NOT VERIFIED") or "issuer_trust" not in text:
            raise DemoFailure(f"the look-alike mill was not refused for want of an anchor:\n{text}")
        self.say(f"  {LOOKALIKE_NAME} ({dids[LOOKALIKE]})")
        self.say(self.indent(self.indent("\n".join(line for line in text.splitlines() if "issuer_trust" in line or "UNTRUSTED" in line))))

        self.step("9. Customs builds a signed trust pack; the border post verifies with the sites gone")
        key_file = self.work / "customs-pack-key.json"
        signer = self.run("verifier", "pack", "keygen", "--out", str(key_file), env={}).strip()
        pack_file = self.work / "port-of-laredo.pack"
        built = self.run("verifier", "pack", "build", "--policy", str(policy_file), "--key", str(key_file),
                         "--out", str(pack_file), "--name", "port-of-laredo", "--max-staleness", "3d",
                         "--credential", str(vp_file), *ca, env={})
        self.say(self.indent(built))
        offline = self.pack_check(www, vp_file, challenge, pack_file, signer, expect=0)
        if not offline.startswith("VERIFIED") or "trust_pack" not in offline:
            raise DemoFailure(f"the presentation did not verify from the pack alone:\n{offline}")
        self.say("  the issuers' sites are gone; vc-verify presentation --pack port-of-laredo.pack --offline:")
        self.say(self.indent(self.indent("\n".join(
            line for line in offline.splitlines() if line.startswith("VERIFIED") or "trust_pack" in line))))

        self.step("10. The producer revokes the certification of origin and publishes")
        self.say(self.indent(self.issuer("producer", "revoke", ids["producer"])))
        self.issuer("producer", "publish", "--out-dir", str(www / host("producer")))
        self.say("  status lists republished")

        self.step("11. Next entry: customs verifies again (status lists fetched afresh)")
        second, vp_file, _challenge = self.entry(server, ids, policy_file)
        self.table(second)
        mill, coo, licence = self.documents(second)
        others = [mill, licence]
        revoked = any(c.name == "revocation" and c.outcome.value == "failed" for c in coo.checks)
        if second.verified or not revoked or not all(o.verified for o in others):
            raise DemoFailure("after the revocation the report is not as expected:\n" + second.summary())
        self.say("\n  PRESENTATION NOT VERIFIED: the USMCA certification of origin has been REVOKED by its issuer;")
        self.say("  the mill test report and the SIMA import license are still valid.")
        rebuilt = self.work / "port-of-laredo-2.pack"
        self.run("verifier", "pack", "build", "--policy", str(policy_file), "--key", str(key_file), "--out",
                 str(rebuilt), "--previous", str(pack_file), "--refetch-all",
                 "--credential", str(vp_file), *ca, env={})
        diff = self.run("verifier", "pack", "diff", str(pack_file), str(rebuilt), "--pack-signer", signer, env={})
        if "revoc" not in diff.lower():
            raise DemoFailure(f"the rebuilt pack's diff does not show the revocation:\n{diff}")
        self.say("  customs rebuilds the pack; vc-verify pack diff:")
        self.say(self.indent(self.indent(diff)))

        self.step("12. The importer's wallet sees the change too")
        self.say(self.indent(self.wallet("check", *ca, expect=1)))

        self.step("13. A border post with no network verifies from a snapshot of the issuers' sites")
        # the server's files are laid out as <host>/<path>: a snapshot directory as it stands; the
        # post keeps the register's anchors in its local trust store, as it verifies documents alone
        policy = json.loads(policy_file.read_text(encoding="utf-8"))
        policy_file = self.work / "border-post-policy.json"
        policy_file.write_text(json.dumps({**policy, "anchors": [str(a) for a in anchors.values()]}, indent=2),
                               encoding="utf-8")
        for key, expect, verdict in (("mill", 0, "VERIFIED"), ("producer", 1, "NOT VERIFIED")):
            text = self.run("verifier", "credential", str(files[key]), "--trust", str(policy_file), "--offline",
                            "--snapshot", str(www), env={}, expect=expect)
            if not text.startswith(verdict) or "resolved from snapshot" not in text:
                raise DemoFailure(f"vc-verify --offline --snapshot did not behave as expected:\n{text}")
            self.say(f"  vc-verify credential {files[key].name} --offline --snapshot <the sites>: {verdict}")
            self.say(self.indent("\n".join(line for line in text.splitlines() if "resolved from" in line or " revocation" in line)))

    def pack_check(self, www: Path, vp_file: Path, challenge: str, pack_file: Path, signer: str, *, expect: int) -> str:
        """``vc-verify presentation --pack`` with the issuers' sites taken off the server."""
        hidden = www.with_name(www.name + ".off")
        www.rename(hidden)
        www.mkdir()
        try:
            return self.run("verifier", "presentation", str(vp_file), "--challenge", challenge, "--domain",
                            CUSTOMS_DOMAIN, "--pack", str(pack_file), "--pack-signer", signer, env={}, expect=expect)
        finally:
            www.rmdir()
            hidden.rename(www)

    def entry(self, server: Any, ids: dict[str, str], policy_file: Path) -> tuple[PresentationResult, Path, str]:
        challenge = secrets.token_hex(16)
        self.say(f"  customs' challenge: {challenge}   domain: {CUSTOMS_DOMAIN}")
        vp_file = self.work / "presentation.json"
        credentials = [a for key, *_ in ISSUERS for a in ("--credential", ids[key])]
        self.wallet("present", *credentials, "--challenge", challenge, "--domain", CUSTOMS_DOMAIN, "--out", str(vp_file))
        presentation = json.loads(vp_file.read_text(encoding="utf-8"))
        held = len(presentation["verifiableCredential"])
        self.say(f"  importer presents {len(ISSUERS)} credentials and the {held - len(ISSUERS)} anchors of their issuers, "
                 f"signed by {presentation['holder'][:32]}...")
        verifier = Verifier(policy=load_policy(policy_file), session=server.session(),
                            mirror=Mirror.from_file(self.mirror_file))
        started = time.perf_counter()
        result = verifier.verify_presentation(presentation, challenge=challenge, domain=CUSTOMS_DOMAIN)
        self.say(f"  verified in {1000 * (time.perf_counter() - started):.0f} ms (including fetching DID documents and status lists)")
        checks = [c for report in result.credentials for c in report.checks] + list(result.checks)
        dids = {c.data["didDocumentFrom"] for c in checks if "didDocumentFrom" in c.data}
        lists = {c.data["statusListFrom"] for c in checks if "statusListFrom" in c.data}
        self.say(f"  read from the mirror, as each report says: {len(dids)} DID documents, {len(lists)} status lists")
        return result, vp_file, challenge

    def decide(self, server: Any, ids: dict[str, str], vp_file: Path, challenge: str, policy_file: Path) -> None:
        """Two entries on the same documents: the first is accepted and its quantities recorded;
        the second declares another melt-and-pour country and reuses the standard SIMA licence
        and the heats the first drew, and is rejected, saying why."""
        presentation = json.loads(vp_file.read_text(encoding="utf-8"))
        today = datetime.now(timezone.utc).date().isoformat()
        line = {"line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe, API 5L PSL2 X52N, NPS 4",
                "quantity": 78422, "unit": "KGM", "value": 113711.90, "countryOfOrigin": "MX",
                "countryOfMeltAndPour": "MX", "manufacturerId": ANCHORED["mill"],
                "simaLicenseNumber": "SIMA-2026-0418739", "preference": "USMCA",
                "heats": ["H26-18841", "H26-18842"], "credentials": [ids[key] for key, *_ in ISSUERS]}
        entry = {"entryNumber": "LRD-2026001-4", "dateOfImport": today, "entrySummaryDate": today,
                 "importerOfRecord": {"identifier": "76-1234567", "did": presentation["holder"],
                                      "name": "Gulf Coast Pipe & Supply LLC"},
                 "lines": [line]}
        verifier = Verifier(policy=load_policy(policy_file), session=server.session(),
                            mirror=Mirror.from_file(self.mirror_file))
        rules = RuleSet.from_policy_file(policy_file)
        ledger = open_ledger(":memory:")
        first = verifier.verify_entry(entry, presentation, challenge=challenge, domain=CUSTOMS_DOMAIN, rules=rules,
                                      ledger=ledger)
        self.say(self.indent(first.summary()))
        if first.decision is not Decision.ACCEPT or not first.recorded:
            raise DemoFailure("the genuine entry was not accepted:\n" + first.summary())
        second = dict(entry, entryNumber="LRD-2026002-2", lines=[dict(line, countryOfMeltAndPour="CN")])
        self.say("\n  A second entry on the same documents, declaring melt and pour in CN:")
        report = verifier.verify_entry(second, presentation, challenge=challenge, domain=CUSTOMS_DOMAIN, rules=rules,
                                       ledger=ledger)
        self.say(self.indent(report.summary()))
        found = {f.rule for f in report.line(1).findings}
        if report.decision is not Decision.REJECT or not {
                "steel.melt-pour.matches-mill", "sima.licence.single-use", "quantity.heat"} <= found:
            raise DemoFailure("the second entry was not rejected for its melt and pour and quantities:\n"
                              + report.summary())

    def documents(self, result: PresentationResult) -> list[VerificationResult]:
        """The reports on the three documents, in the order of ISSUERS (the anchors follow them)."""
        return [next(r for r in result.credentials if r.document_id == self.ids[key]) for key, *_ in ISSUERS]

    def table(self, result: PresentationResult) -> None:
        """Every check per document: rows are checks, columns are documents; then the anchors."""
        columns = [label for *_, label, _secured in ISSUERS]
        documents = self.documents(result)
        anchors = [r for r in result.credentials if r not in documents]
        names: list[str] = []
        for report in documents:  # every check, each after the one it follows in some report
            previous = None
            for check in report.checks:
                if check.name not in names:
                    names.insert(names.index(previous) + 1 if previous in names else len(names), check.name)
                previous = check.name
        self.say()
        self.say(f"  {'check':18}" + "".join(f"{c:>24}" for c in columns))
        self.say(f"  {'secured by':18}" + "".join(f"{s:>24}" for *_, s in ISSUERS))
        for name in names:
            cells = [self.cell(report, name) for report in documents]
            self.say(f"  {name:18}" + "".join(f"{c:>24}" for c in cells))
        verdicts = ["VERIFIED" if r.verified else "NOT VERIFIED" for r in documents]
        self.say(f"  {'=> document':18}" + "".join(f"{v:>24}" for v in verdicts))
        own = [c for c in result.checks if c.name != "credentials"]
        self.say(f"  anchors: {sum(r.verified for r in anchors)} of {len(anchors)} verified")
        self.say("  presentation: " + ", ".join(f"{c.name} {MARKS[c.outcome.value]}" for c in own))
        for report in result.credentials:
            for check in report.failures + report.errors:
                self.say(f"  ! {report.document_id}: {check.name}: {check.message}")

    @staticmethod
    def cell(report: VerificationResult, name: str) -> str:
        outcomes = [c.outcome.value for c in report.checks if c.name == name]
        if not outcomes:
            return "n/a"
        worst = next((o for o in ("failed", "error", "passed", "skipped") if o in outcomes), outcomes[0])
        return MARKS[worst]

    @staticmethod
    def indent(text: str) -> str:
        return "\n".join("  " + line for line in text.rstrip().splitlines())


def main(out: Callable[[str], None] = print) -> int:
    with tempfile.TemporaryDirectory(prefix="tradevc-demo-") as work:
        try:
            Demo(Path(work), out).main()
        except DemoFailure as e:
            out(f"\nDEMO FAILED: {e}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
