"""The tradevc demo: a shipment of line pipe at the border, end to end, on this machine.

1. A local HTTPS server (throwaway CA, 127.0.0.1) mirrors the issuers' websites: their DIDs
   name their own hosts (did:web:mill.example...), and a mirror file (vc.mirror) tells the
   wallet and customs to read those hosts from the local server, with every check unchanged.
   The mill and the producer (Aceros del Norte) serve their sites with ``vc-issuer serve-site``.
2. Three issuers, each with its own did:web identity, use ``vc-issuer``: the steel mill issues a
   mill test report, the Mexican producer a USMCA certification of origin (both with Data
   Integrity proofs), the U.S. licensing office a SIMA steel import license (an ES384 vc+jwt);
   each publishes its DID document and status lists. A Mexican business register, a fourth
   issuer, anchors the mill's and the producer's DIDs to their CBP manufacturer IDs
   (``IdentityAnchorCredential``). A melt shop in China sets up its own did:web identity too.
3. The importer keeps them and the anchors in its ``vc-wallet`` (which verifies each before
   storing it) and presents them to customs, bound to customs' challenge and domain; the
   wallet adds the anchors of the issuers it presents.
4. Customs trusts the register (a root of its policy), the licensing office and the melt shop,
   not the Mexican mills: it verifies the presentation with ``Verifier.verify_presentation`` and
   prints the table of documents and checks and the verdict that ``vc-verify presentation``
   ends with (:mod:`tradevc.verifier.describe`), and the trust path of each issuer. It decides on an entry
   of those goods (``Verifier.verify_entry``: ACCEPT, its quantities recorded in a ledger, an
   SQLite file), and rejects a second entry that declares another melt-and-pour country and
   reuses the licence and the heats. A look-alike mill with no anchor is refused, with the reason.
5. Customs builds a signed offline trust pack; with the sites gone, the border post verifies
   the same presentation from the pack alone.
6. The producer revokes the certificate of origin and publishes; the importer's wallet, which
   checks what it presents before signing, refuses to present it; presented anyway, customs
   verifies again: the certificate shows as revoked, the others as valid, the presentation as
   not verified; the rebuilt pack's diff shows the revocation.
7. A border post with no network verifies with ``vc-verify --offline --snapshot``, reading the
   issuers' DID documents and status lists from a snapshot of their sites.
8. It ends with entries. A transshipment: the melt shop reports heats it melted and poured in
   China, the Mexican mill records turning them into pipe (a transformation event, ``vc-issuer
   issue --derived-from``) and reports the pipe lots, each credential pinned to its inputs by a
   digest; the importer declares the pipe melted and poured in Mexico, and customs, following
   the supply path to the melt shop, rejects the line naming the melt shop's report and heats.
   Then a single-shipment certification of 50 t covers two entries of 30 t: the first is
   accepted and recorded in the ledger, the second goes to review, naming the first. The last
   documents are signed at the issuers' desks in this process (``tradevc.issuer.Issuer``, what
   ``vc-issuer`` runs), the event with ``vc-issuer`` itself.
9. Customs decides the first entry with ``vc-verify entry --evidence``, which seals the evidence
   of its decision with customs' own key (``vc-verify evidence-key init``), before the revocation. Years later, an audit: the certificate is revoked
   now; the producer's status history shows the version in effect at the entry; the bundle is
   archived (``vc-verify archive``), the issuers' sites are shut down, and the bundle, found by
   entry number, replays offline to the same decision (``vc-verify replay``) after Aceros del
   Norte's serve-site processes are stopped (the live check can no longer verify); a tampered copy is
   refused. ``vc-verify --at`` is not used: it tells moments apart only 5 minutes or more from
   each other and from its clock, and the whole story takes about a minute.

Run with ``make demo``; ``tests/integration/test_demo.py`` runs the same code. It exits 0 only if
every step behaved as described, and removes everything it made except the HTML reports of the
last entries (``EntryReport.to_html()``), which it writes to ``demo-output/``.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the local HTTPS server with a throwaway CA lives with the tests

from support.https_server import start  # noqa: E402
from tradevc.issuer import Issuer  # noqa: E402
from tradevc.vc.securing.jose import credential_of  # noqa: E402
from tradevc.vc.retrieval.mirror import Mirror  # noqa: E402
from tradevc.vc.report import VerificationResult  # noqa: E402
from tradevc.verifier import PresentationResult, Verifier  # noqa: E402
from tradevc.verifier.entry import Decision, EntryReport, RuleSet  # noqa: E402
from tradevc.verifier.ledger import open_ledger  # noqa: E402
from tradevc.verifier.describe import documents_table, shown_presentation, verdict  # noqa: E402
from tradevc.verifier.trust import describe_path, load_policy  # noqa: E402

EXAMPLES = ROOT / "issuer" / "examples"
CUSTOMS_DOMAIN = "cbp.gov"
MARKS = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "skipped": "-"}
SERVED = ("mill", "producer")  # Aceros del Norte's sites, served by vc-issuer serve-site processes

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
# What the register lets each anchored party issue: the mill also records how it turns billets into pipe.
ANCHORED_TYPES = {"mill": ["MillTestReportCredential", "TransformationEventCredential"],
                  "producer": ["USMCACertificationOfOrigin"]}
# A melt shop in China whose mill test reports customs trusts directly (a foreign mill it has
# audited): where the steel of the transshipment was first melted and poured.
MELT_SHOP, MELT_SHOP_NAME = "meltshop", "Donghai Special Steel Co., Ltd., melt shop (Jiangsu, China)"
CN_HEATS = ["H26-C7731", "H26-C7732"]  # cast in China: the transshipment
PIPE_LOTS = ["ADN-LP4-X52-1001..1100", "ADN-LP4-X52-1101..1200"]  # what the Mexican mill made of them
MX_HEATS = ["H26-19107", "H26-19108"]  # melted and poured in Mexico: the split shipment
LOOKALIKE, LOOKALIKE_NAME = "mi11", "'Aceros del Norte' at mi11.example, a look-alike"
# CBP's importer records (Form 5106): customs trusts them to anchor an importer's DID to its
# importer number, so that no one else can file as the importer of record under that number.
RECORDS, RECORDS_NAME = "records", "U.S. CBP importer records (Form 5106)"
IMPORTER_NUMBER, IMPORTER_NAME = "76-1234567", "Gulf Coast Pipe & Supply LLC"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text: str) -> datetime:
    """An RFC 3339 time as the documents write it (``...Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def example(name: str) -> dict[str, Any]:
    """A copy of one of the issuer's example subjects, to change."""
    return dict(json.loads((EXAMPLES / name).read_text(encoding="utf-8")))


def host(key: str) -> str:
    """The issuer's own web host, named in its did:web DID and status list URLs."""
    return f"{key}.example"


class DemoFailure(Exception):
    """A step did not behave as the demo says it should."""


class Demo:
    def __init__(self, workdir: Path, out: Callable[[str], None], output: Path) -> None:
        self.work = workdir
        self.out = out
        self.output = output  # the entry reports (HTML) are written here, and kept
        self.decided: list[tuple[str, str, str]] = []  # entry number, decision, what it was
        self.ca: list[str] = []  # the wallet's network options (CA bundle, mirrors), once the server runs
        self.passphrase_file = workdir / "passphrase.txt"
        self.passphrase_file.write_text("demo passphrase, not for production\n", encoding="utf-8")
        self.passphrase_file.chmod(0o600)
        self.sites: dict[str, subprocess.Popen[bytes]] = {}  # the vc-issuer serve-site processes, by issuer

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

    def serve_site(self, folder: Path, key: str) -> tuple[str, Path]:
        """Start ``vc-issuer serve-site`` on ``folder`` (which ``vc-issuer publish`` fills later), as
        the issuer ``key`` would to put its site online; its base URL and its throwaway CA."""
        folder.mkdir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        ca_file, log = self.work / f"{key}-site-ca.pem", self.work / f"{key}-site.log"
        with log.open("wb") as out:
            self.sites[key] = subprocess.Popen(
                [sys.executable, "-m", "tradevc.issuer", "serve-site", str(folder), "--port", str(port),
                 "--ca-out", str(ca_file)], stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
        deadline = time.monotonic() + 60
        while "verify with these options" not in log.read_text(encoding="utf-8", errors="replace"):
            if self.sites[key].poll() is not None or time.monotonic() > deadline:
                raise DemoFailure(f"vc-issuer serve-site {folder.name} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        return f"https://localhost:{port}/", ca_file

    def stop_site(self, key: str) -> None:
        """Stop ``key``'s serve-site process: on SIGTERM it says 'stopped' and exits 0."""
        process = self.sites.pop(key)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        said = (self.work / f"{key}-site.log").read_text(encoding="utf-8", errors="replace").split()
        if process.returncode != 0 or said[-1:] != ["stopped"]:
            raise DemoFailure(f"vc-issuer serve-site of {host(key)} did not stop cleanly (exit {process.returncode})")

    def session(self) -> requests.Session:
        """An HTTP session for customs' verifier that trusts the sites' throwaway CAs, and no proxy."""
        session = requests.Session()
        session.verify = str(self.ca_bundle)
        session.trust_env = False
        return session

    def evidence_env(self) -> dict[str, str]:
        """What customs' evidence key and archive commands read: the key's passphrase file."""
        return {"TRADEVC_EVIDENCE_PASSPHRASE_FILE": str(self.passphrase_file)}

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
            for key in list(self.sites):
                self.stop_site(key)
            if hasattr(self, "ledger"):
                self.ledger.close()
        self.step("The entries customs decided")
        for number, decision, what in self.decided:
            self.say(f"  {number}  {decision:6}  {what}")
        self.say()
        self.say(f"Every step behaved as described ({time.monotonic() - started:.1f} s).")

    def story(self, server: Any) -> None:
        www = server.root
        today = datetime.now(timezone.utc).replace(microsecond=0)

        self.step("1. The issuers and the business register set up their identities (did:web, over HTTPS)")
        dids: dict[str, str] = {}
        files: dict[str, Path] = {}
        ids: dict[str, str] = {}
        self.ids = ids
        everyone = [(REGISTRAR, REGISTRAR_NAME, "Ed25519"), (LOOKALIKE, LOOKALIKE_NAME, "Ed25519")] + [
            (key, name, secured.split()[0]) for key, name, _t, _e, _d, _l, secured in ISSUERS] + [
            (MELT_SHOP, MELT_SHOP_NAME, "Ed25519"), (RECORDS, RECORDS_NAME, "Ed25519")]
        # Aceros del Norte runs its two sites with vc-issuer serve-site; the local server holds the others'
        sites = {key: server.url(f"{host(key)}/") for key, *_ in everyone}
        bundle = server.ca_path.read_text(encoding="utf-8")
        for key in SERVED:
            sites[key], ca_file = self.serve_site(www / host(key), key)
            bundle += ca_file.read_text(encoding="utf-8")
        self.ca_bundle = self.work / "ca-bundle.pem"  # the throwaway CAs of the local server and of serve-site
        self.ca_bundle.write_text(bundle, encoding="utf-8")
        self.mirror_file = self.work / "mirror.json"
        self.mirror_file.write_text(json.dumps({"hosts": {host(key): sites[key] for key in sites}}, indent=2),
                                    encoding="utf-8")
        for key, name, key_type in everyone:
            text = self.issuer(key, "init", "--name", name, "--did-web", host(key),
                               "--status-base-url", f"https://{host(key)}/status/", "--key-type", key_type,
                               *(["--cryptosuite", "ecdsa-rdfc-2019"] if key in JOSE else []))
            dids[key] = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("DID: "))
            if key != LOOKALIKE:
                served = "vc-issuer serve-site" if key in SERVED else "its site mirrored"
                self.say(f"  {name}\n      {dids[key]}  ({served} at {sites[key]})")
        self.publish(www, MELT_SHOP)  # customs' policy names it: its DID document goes online now

        self.step("2. The business register anchors the mill's and the producer's DIDs to their registrations")
        anchors: dict[str, Path] = {}
        for key, mid in ANCHORED.items():
            subject = self.work / f"{key}-anchor-subject.json"
            name = next(n for k, n, *_ in ISSUERS if k == key)
            subject.write_text(json.dumps({
                "type": "RegisteredParty", "id": dids[key], "name": name,
                "identifier": [{"type": "PropertyValue", "propertyID": "MID", "value": mid}],
                "authorizedCredentialType": ANCHORED_TYPES[key],
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
        ca = ["--ca-bundle", str(self.ca_bundle), "--mirror-file", str(self.mirror_file)]
        self.ca = ca  # the wallet checks what it presents again, over the same server
        created = self.wallet("init")
        self.say(self.indent(created))
        holder = next(line.split(": ", 1)[1] for line in created.splitlines() if line.startswith("holder DID: "))
        subject = self.work / "importer-anchor-subject.json"
        subject.write_text(json.dumps({
            "type": "RegisteredParty", "id": holder, "name": IMPORTER_NAME,
            "identifier": [{"type": "PropertyValue", "propertyID": "IOR", "value": IMPORTER_NUMBER}],
            "authorizedCredentialType": ["PowerOfAttorneyCredential"], "territory": ["US"],
        }, indent=2), encoding="utf-8")
        importer_anchor = self.work / "importer-anchor.json"
        self.issuer(RECORDS, "issue", "--type", "IdentityAnchor", "--subject", str(subject),
                    "--valid-from", stamp(today - timedelta(days=30)),
                    "--valid-until", stamp(today + timedelta(days=335)), "--out", str(importer_anchor))
        self.issuer(RECORDS, "publish", "--out-dir", str(www / host(RECORDS)))
        self.say(f"  {RECORDS_NAME} anchors the wallet's DID to importer number {IMPORTER_NUMBER} "
                 f"({json.loads(importer_anchor.read_text(encoding='utf-8'))['id']})")
        self.say(self.indent(self.wallet("add", *[str(files[k]) for k, *_ in ISSUERS],
                                         *[str(a) for a in anchors.values()], *ca)))
        self.say(self.indent(self.wallet("list")))

        self.step("5. Customs trusts the business register, the licensing office and one melt shop, not each mill")
        policy_file = self.work / "border-policy.json"
        direct = [(dids[key], name, type_name) for key, name, type_name, *_ in ISSUERS if key not in ANCHORED]
        direct.append((dids[MELT_SHOP], MELT_SHOP_NAME, "MillTestReportCredential"))
        policy_file.write_text(json.dumps({
            "roots": [{"did": dids[REGISTRAR], "name": REGISTRAR_NAME, "vouches": ["anchor"], "schemes": ["MID"],
                       "types": [t for key in ANCHORED for t in ANCHORED_TYPES[key]]},
                      {"did": dids[RECORDS], "name": RECORDS_NAME, "vouches": ["anchor"], "schemes": ["IOR"],
                       "types": ["PowerOfAttorneyCredential"]}],
            # the importer records' anchor of the importer, in customs' own trust store
            "anchors": [str(importer_anchor)],
            "trustedIssuers": [{"did": did, "name": name, "types": [type_name]} for did, name, type_name in direct],
        }, indent=2), encoding="utf-8")
        self.policy_file = policy_file
        self.say(f"  root: {REGISTRAR_NAME}, for what the parties it anchors issue: "
                 + ", ".join(t for key in ANCHORED for t in ANCHORED_TYPES[key]))
        for _did, name, type_name in direct:
            self.say(f"  directly: {name}, for {type_name}")

        self.step("6. Entry: customs sends a challenge; the importer presents; customs verifies")
        first, vp_file, challenge = self.entry(server, ids, policy_file)
        self.table(first, vp_file)
        if not first.verified:
            raise DemoFailure("the genuine presentation did not verify:\n" + first.summary())
        self.say("\n  Who vouches for each issuer (the issuer_trust check):")
        for report in self.documents(first):
            trust = report.check("issuer_trust")
            path = trust.data.get("trustPath")
            self.say(self.indent(self.indent("\n".join(describe_path(path)) if path else trust.message)))
        self.verdict(first)

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
        self.say(self.indent(self.indent("\n".join(line for line in text.splitlines() if "issuer_trust" in line
                                                   or "UNTRUSTED" in line or line.strip().startswith("issuer: ")))))

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

        self.step("11. Next entry: the wallet refuses to present the revoked certification; presented anyway, "
                  "customs verifies again (status lists fetched afresh)")
        second, vp_file, _challenge = self.entry(server, ids, policy_file, anyway=True)
        self.table(second, vp_file)
        mill, coo, licence = self.documents(second)
        others = [mill, licence]
        revoked = any(c.name == "revocation" and c.outcome.value == "failed" for c in coo.checks)
        if second.verified or not revoked or not all(o.verified for o in others):
            raise DemoFailure("after the revocation the report is not as expected:\n" + second.summary())
        self.verdict(second)
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
        policy_file.write_text(json.dumps({**policy, "anchors": [*policy["anchors"], *(str(a) for a in anchors.values())]},
                                          indent=2),
                               encoding="utf-8")
        for key, expect, verdict in (("mill", 0, "VERIFIED"), ("producer", 1, "NOT VERIFIED")):
            text = self.run("verifier", "credential", str(files[key]), "--trust", str(policy_file), "--offline",
                            "--snapshot", str(www), env={}, expect=expect)
            if not text.startswith(verdict) or "resolved from snapshot" not in text:
                raise DemoFailure(f"vc-verify --offline --snapshot did not behave as expected:\n{text}")
            self.say(f"  vc-verify credential {files[key].name} --offline --snapshot <the sites>: {verdict}")
            self.say(self.indent("\n".join(line for line in text.splitlines() if "resolved from" in line or " revocation" in line)))

        self.step("14. Two more shipments: the issuers' documents, kept in the importer's wallet")
        docs = self.shipments(www, ca)

        self.step("15. A transshipment: pipe finished in Mexico from steel melted and poured in China")
        self.transshipment(server, docs)

        self.step("16. A single-shipment certification of 50 t, and two entries of 30 t")
        self.split_shipment(server, docs)

        self.step("17. Years later, an audit: entry LRD-2026001-4 was accepted before the certificate was revoked")
        self.audit(files["producer"], policy_file=self.policy_file)

    def audit(self, certificate: Path, *, policy_file: Path) -> None:
        """Years later, customs must show that entry LRD-2026001-4 was rightly accepted although
        its certificate of origin is revoked now. The producer's status history and the sealed
        evidence of the decision, replayed once Aceros del Norte's sites are shut down, show it was
        not revoked then."""
        entry_number, archive = "LRD-2026001-4", ["--archive", str(self.work / "customs-archive"),
                                                  "--ledger", str(self.work / "customs-ledger.db")]
        now = self.run("verifier", "credential", str(certificate), "--trust", str(policy_file), "--no-cache", *self.ca,
                       env={}, expect=1)
        revocation = [line.strip() for line in now.splitlines() if " revocation" in line]
        if not now.startswith("NOT VERIFIED") or not any("REVOKED" in line for line in revocation):
            raise DemoFailure(f"the certification of origin is not reported revoked now:\n{now}")
        self.say(f"  now: vc-verify credential {certificate.name}: NOT VERIFIED")
        self.say(self.indent(self.indent("\n".join(revocation))))

        # the producer publishes every version of its list: the one in effect at the entry
        history = self.work / "web" / "www" / host("producer") / "status" / "revocation" / "1.history" / "index.json"
        versions = json.loads(history.read_text(encoding="utf-8"))["versions"]
        entered = instant(self.entry_verified_at)
        then = [v for v in versions if instant(v["validFrom"]) <= entered < instant(v["validUntil"])]
        later = [v for v in versions if instant(v["validFrom"]) > entered]
        if len(then) != 1 or not later:
            raise DemoFailure(f"the producer's status history has no version for the entry, or none after it:\n{versions}")
        self.say(f"  the producer's status history (status/revocation/1.history/index.json, {len(versions)} versions):")
        self.say(f"    version {then[0]['version']}, in effect {then[0]['validFrom']} .. {then[0]['validUntil']}, "
                 f"covers the entry verified at {self.entry_verified_at}; the revocation came in version "
                 f"{later[0]['version']}")
        self.say("    (vc-verify credential --at reads that version for a moment 5 minutes or more before both the "
                 "next version and its clock,\n     a tolerance for clocks that disagree: this story took a minute, "
                 "so the sealed evidence shows the status then)")

        self.run("verifier", "archive", "add", str(self.entry_evidence), "--sealer", self.seal_key, *archive, env={})
        self.say("  customs keeps the entry's sealed evidence in its archive (vc-verify archive add --sealer <customs' "
                 "key>, which accepts only bundles sealed by that key): a folder by day, indexed in its ledger database")

        for key in SERVED:
            self.stop_site(key)
        gone = self.run("verifier", "credential", str(certificate), "--trust", str(policy_file), "--no-cache", *self.ca,
                        env={}, expect=3)
        self.say(f"  Aceros del Norte closes: its sites' vc-issuer serve-site processes ({', '.join(map(host, SERVED))}) "
                 "are stopped,")
        self.say("  and vc-verify credential can no longer verify the certification (exit 3):")
        self.say(self.indent(self.indent("\n".join(line.strip() for line in gone.splitlines()
                                                   if line.startswith("COULD NOT VERIFY") or " revocation" in line))))

        found = json.loads(self.run("verifier", "archive", "search", "--entry-number", entry_number, "--json",
                                    *archive, env={}))
        if len(found) != 1:
            raise DemoFailure(f"archive search --entry-number {entry_number} did not find its bundle once:\n{found}")
        digest = str(found[0]["digest"])
        kept = self.work / f"{entry_number}.from-archive.json"
        shown = subprocess.run([sys.executable, "-m", "tradevc.verifier", "archive", "show", digest[:12], "--bundle",
                                *archive], capture_output=True, timeout=120)
        if shown.returncode != 0 or shown.stdout != self.entry_evidence.read_bytes():
            raise DemoFailure(f"archive show --bundle did not give the archived bytes back: {shown.stderr!r}")
        kept.write_bytes(shown.stdout)
        self.say(f"  vc-verify archive search --entry-number {entry_number}: bundle {digest[:12]}..., "
                 "its exact bytes back with archive show --bundle")

        replayed = self.run("verifier", "replay", str(kept), "--seal-key", self.seal_key, env={})
        result = json.loads(self.run("verifier", "replay", str(kept), "--seal-key", self.seal_key, "--json", env={}))
        certificate_then = [d for d in result["report"]["documents"] if d["id"] == self.ids["producer"]]
        status_lists = [r["url"] for r in json.loads(kept.read_text(encoding="utf-8"))["retrieved"]
                        if r["url"].startswith(f"https://{host('producer')}/status/")]
        if (not replayed.startswith("SAME DECISION: ACCEPT") or not result["same"] or result["replayedOutcome"] != "ACCEPT"
                or [d["outcome"] for d in certificate_then] != ["verified"] or not status_lists):
            raise DemoFailure(f"the replay of the entry's evidence did not give the same decision, the certificate "
                              f"not revoked then:\n{replayed}\n{json.dumps(certificate_then)}")
        self.say(f"  vc-verify replay {kept.name} --seal-key <customs' key>, with no network:")
        self.say(self.indent(self.indent(replayed)))
        self.say(f"    the certification of origin in the replayed decision: {certificate_then[0]['outcome']}, its status "
                 f"read from the list recorded at the entry ({status_lists[0]})")

        tampered = self.work / f"{entry_number}.tampered.json"
        tampered.write_text(kept.read_text(encoding="utf-8").replace(IMPORTER_NAME, IMPORTER_NAME.upper(), 1),
                            encoding="utf-8")
        refused = self.run("verifier", "replay", str(tampered), "--seal-key", self.seal_key, env={}, expect=2)
        if "does not match its seal" not in refused:
            raise DemoFailure(f"a tampered copy of the evidence was not refused for its seal:\n{refused}")
        self.say("  a copy with the importer's name changed is refused (exit 2):")
        self.say(self.indent(self.indent(refused.replace(str(tampered), tampered.name))))

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

    def entry(self, server: Any, ids: dict[str, str], policy_file: Path,
              anyway: bool = False) -> tuple[PresentationResult, Path, str]:
        """The importer presents to customs' new challenge; with ``anyway``, the wallet first
        refuses (a credential is no longer valid) and the importer presents with --anyway."""
        challenge = secrets.token_hex(16)
        self.say(f"  customs' challenge: {challenge}   domain: {CUSTOMS_DOMAIN}")
        vp_file = self.work / "presentation.json"
        credentials = [a for key, *_ in ISSUERS for a in ("--credential", ids[key])]
        present = ["present", *credentials, "--challenge", challenge, "--domain", CUSTOMS_DOMAIN, "--out", str(vp_file),
                   *self.ca]
        if not anyway:
            self.wallet(*present)
        else:
            vp_file.unlink(missing_ok=True)
            try:
                refused = self.wallet(*present, expect=1)
            except DemoFailure:
                if not vp_file.exists():
                    raise
                refused = ""  # it presented: customs' verdict below says whether it should have refused
            if refused:
                self.say("  vc-wallet present checks each credential again before signing, and refuses:")
                self.say(self.indent(self.indent("\n".join(line for line in refused.splitlines() if "error:" in line))))
                self.say("  the importer presents anyway (--anyway):")
                self.wallet(*present, "--anyway")
        presentation = json.loads(vp_file.read_text(encoding="utf-8"))
        held = len(presentation["verifiableCredential"])
        self.say(f"  importer presents {len(ISSUERS)} credentials and the {held - len(ISSUERS)} anchors of their issuers, "
                 f"signed by {presentation['holder'][:32]}...")
        verifier = Verifier(policy=load_policy(policy_file), session=self.session(),
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
        """Two entries on the same documents: the first (``vc-verify entry``, its evidence sealed)
        is accepted and its quantities recorded;
        the second declares another melt-and-pour country and reuses the standard SIMA licence
        and the heats the first drew, and is rejected, saying why."""
        presentation = json.loads(vp_file.read_text(encoding="utf-8"))
        today = self.today = datetime.now(timezone.utc).date().isoformat()
        self.holder = presentation["holder"]
        line = {"line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe, API 5L PSL2 X52N, NPS 4",
                "quantity": 78422, "unit": "KGM", "value": 113711.90, "countryOfOrigin": "MX",
                "countryOfMeltAndPour": "MX", "manufacturerId": ANCHORED["mill"],
                "simaLicenseNumber": "SIMA-2026-0418739", "preference": "USMCA",
                "heats": ["H26-18841", "H26-18842"], "credentials": [ids[key] for key, *_ in ISSUERS]}
        entry = {"entryNumber": "LRD-2026001-4", "dateOfImport": today, "entrySummaryDate": today,
                 "importerOfRecord": {"identifier": IMPORTER_NUMBER, "did": presentation["holder"],
                                      "name": IMPORTER_NAME},
                 "lines": [line]}
        # customs keeps sealed evidence of this decision, to defend it years later: its own key
        # (vc-verify evidence-key init) seals what vc-verify entry --evidence records
        self.evidence_home = self.work / "customs-evidence"
        self.seal_key = self.run("verifier", "evidence-key", "init", "--home", str(self.evidence_home),
                                 env=self.evidence_env()).strip()
        entry_file = self.work / f"{entry['entryNumber']}.json"
        entry_file.write_text(json.dumps(entry, indent=2), encoding="utf-8")
        self.entry_evidence = self.work / f"{entry['entryNumber']}.evidence.json"
        ledger_file = self.work / "customs-ledger.db"  # an SQLite file, kept to the end
        text = self.run("verifier", "entry", str(entry_file), str(vp_file), "--trust", str(policy_file),
                        "--challenge", challenge, "--domain", CUSTOMS_DOMAIN, "--ledger", str(ledger_file),
                        "--evidence", str(self.entry_evidence), "--evidence-home", str(self.evidence_home),
                        "--no-cache", *self.ca, env=self.evidence_env())
        sealed = json.loads(self.entry_evidence.read_text(encoding="utf-8"))
        self.entry_verified_at = sealed["verifiedAt"]
        self.say(self.indent(text))
        self.decided.append((entry["entryNumber"], sealed["report"]["decision"], "the shipment as documented"))
        if sealed["report"]["decision"] != "ACCEPT" or not sealed["report"]["recordedInLedger"]:
            raise DemoFailure("the genuine entry was not accepted and recorded:\n" + text)
        self.say(f"  customs' evidence key (vc-verify evidence-key init): {self.seal_key}")
        self.say(f"  sealed evidence of the decision (vc-verify entry --evidence), verified at {self.entry_verified_at}: "
                 f"{self.entry_evidence.name}")
        self.say(f"    the entry, the presentation and the {len(sealed['retrieved'])} documents it relied on "
                 "(DID documents, status lists, exact bytes), the policy and the report")
        verifier = Verifier(policy=load_policy(policy_file), session=self.session(),
                            mirror=Mirror.from_file(self.mirror_file))
        rules = RuleSet.from_policy_file(policy_file)
        ledger = self.ledger = open_ledger(ledger_file)
        second = dict(entry, entryNumber="LRD-2026002-2", lines=[dict(line, countryOfMeltAndPour="CN")])
        self.say("\n  A second entry on the same documents, declaring melt and pour in CN:")
        report = verifier.verify_entry(second, presentation, challenge=challenge, domain=CUSTOMS_DOMAIN, rules=rules,
                                       ledger=ledger)
        self.say(self.indent(report.summary()))
        self.decided.append((report.entry_number, report.decision.value, "the same documents again, melt and pour declared CN"))
        found = {f.rule for f in report.line(1).findings}
        if report.decision is not Decision.REJECT or not {
                "steel.melt-pour.matches-mill", "sima.licence.single-use", "quantity.heat"} <= found:
            raise DemoFailure("the second entry was not rejected for its melt and pour and quantities:\n"
                              + report.summary())

    # -- the last entries: a transshipment, and a certification used beyond its quantity -------------

    def desk(self, key: str) -> Issuer:
        """The issuing desk of ``key`` in this process: what ``vc-issuer`` runs, without starting
        a Python for each of the last steps' nine documents."""
        passphrase = self.passphrase_file.read_text(encoding="utf-8").rstrip("\r\n").encode("utf-8")
        return Issuer.open(self.work / "issuers" / key, passphrase)

    def issue(self, key: str, type_name: str, subject: dict[str, Any], name: str, *, days: int = 300,
              derived_from: tuple[Path, ...] = (), jose: bool = False, cli: bool = False) -> tuple[Path, dict[str, Any]]:
        """``key`` issues ``subject``, pinned by digest to the credentials in the files ``derived_from``;
        with ``cli`` by ``vc-issuer issue``, else at its desk. The file written and the credential."""
        out = self.work / (f"{name}.jwt" if jose else f"{name}.json")
        today = datetime.now(timezone.utc).replace(microsecond=0)
        valid_from, valid_until = stamp(today - timedelta(days=2)), stamp(today + timedelta(days=days))
        if cli:
            subject_file = self.work / f"{name}.subject.json"
            subject_file.write_text(json.dumps(subject, indent=2), encoding="utf-8")
            self.issuer(key, "issue", "--type", type_name, "--subject", str(subject_file), "--valid-from", valid_from,
                        "--valid-until", valid_until, "--out", str(out), "--format", "jose" if jose else "di",
                        *[arg for path in derived_from for arg in ("--derived-from", str(path))])
        else:
            # a vc+jwt input is its token, a Data Integrity one its JSON
            inputs = [text if path.suffix == ".jwt" else json.loads(text)
                      for path in derived_from for text in [path.read_text(encoding="utf-8").strip()]]
            with self.desk(key) as desk:
                signed = desk.issue(subject, type_name=type_name, valid_from=valid_from, valid_until=valid_until,
                                    securing="jose" if jose else "data-integrity", derived_from=inputs)
            out.write_text(signed if isinstance(signed, str) else json.dumps(signed, indent=2), encoding="utf-8")
        text = out.read_text(encoding="utf-8")
        return out, (credential_of(text.strip()) if jose else json.loads(text))

    def publish(self, www: Path, *keys: str) -> None:
        for key in keys:
            with self.desk(key) as desk:
                desk.publish(www / host(key))

    def present(self, credential_ids: list[str], name: str) -> tuple[dict[str, Any], str]:
        """The importer presents ``credential_ids`` to customs' new challenge (the wallet adds the anchors)."""
        challenge = secrets.token_hex(16)
        vp_file = self.work / f"{name}.json"
        self.wallet("present", *[a for cid in credential_ids for a in ("--credential", cid)], "--challenge", challenge,
                    "--domain", CUSTOMS_DOMAIN, "--out", str(vp_file), *self.ca)
        return json.loads(vp_file.read_text(encoding="utf-8")), challenge

    def decide_entry(self, server: Any, entry: dict[str, Any], presentation: dict[str, Any], challenge: str,
                     what: str) -> EntryReport:
        """Customs decides on ``entry`` under its policy, drawing on its ledger; the text table is
        printed and the HTML report written to the output folder."""
        verifier = Verifier(policy=load_policy(self.policy_file), session=self.session(),
                            mirror=Mirror.from_file(self.mirror_file))
        report = verifier.verify_entry(entry, presentation, challenge=challenge, domain=CUSTOMS_DOMAIN,
                                       rules=RuleSet.from_policy_file(self.policy_file), ledger=self.ledger)
        self.say(self.indent(report.summary()))
        self.output.mkdir(parents=True, exist_ok=True)
        page = self.output / f"entry-{report.entry_number}.html"
        page.write_text(report.to_html(), encoding="utf-8")
        try:
            shown = page.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            shown = page
        self.say(f"    HTML report: {shown}")
        self.decided.append((report.entry_number, report.decision.value, what))
        return report

    def line(self, number: str, kg: int, value: float, heats: list[str], licence: str,
             credentials: list[str]) -> dict[str, Any]:
        """An entry of one line of seamless line pipe from Mexico, claiming USMCA, declared as melted and poured in MX."""
        return {
            "entryNumber": number, "dateOfImport": self.today, "entrySummaryDate": self.today,
            "importerOfRecord": {"identifier": IMPORTER_NUMBER, "did": self.holder, "name": IMPORTER_NAME},
            "lines": [{"line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe, API 5L PSL2 X52N, NPS 4",
                       "quantity": kg, "unit": "KGM", "value": value, "countryOfOrigin": "MX",
                       "countryOfMeltAndPour": "MX", "manufacturerId": ANCHORED["mill"], "simaLicenseNumber": licence,
                       "preference": "USMCA", "heats": heats, "credentials": credentials}],
        }

    def shipments(self, www: Path, ca: list[str]) -> dict[str, dict[str, Any]]:
        """The documents of two more shipments, issued, published and kept in the importer's wallet.

        A transshipment: round billets cast in China become pipe in Mexico. The melt shop's report,
        the mill's transformation event and its report for the pipe lots are each pinned to what
        they came from by a digest; the export office certifies the pipe and the licensing office
        licenses it as melted and poured in MX, as the importer applied.

        A split shipment: a single-shipment certification of 50 t, the mill's report for its heats,
        and two standard SIMA licences of 30 t, one for each entry."""
        docs: dict[str, dict[str, Any]] = {}
        melt_subject = example("mill-test-report.subject.json")
        melt_subject.update(internalCertificateNo="DHSS-MTR-2026-11873", purchaseOrderNo="ADN-PO-2026-0907",
                            invoiceNo="DHSS-INV-2026-5521", customer=copy.deepcopy(melt_subject["manufacturer"]))
        melt_subject["manufacturer"] = {"type": ["Organization"], "name": "Donghai Special Steel Co., Ltd.", "location": {
            "type": ["Place"], "address": {"type": ["PostalAddress"], "streetAddress": "8 Gangcheng Road",
                                           "addressLocality": "Yancheng", "addressRegion": "Jiangsu",
                                           "postalCode": "224500", "addressCountry": "CN"}}}
        for product, heat in zip(melt_subject["product"], CN_HEATS):
            product.update(identifier=f"DH-RB-{heat[-4:]}", heatNumber=heat, weight="24.0", weightUnit="TNE",
                           description="Round billet, 180 mm, continuously cast, for seamless pipe",
                           manufacturingCountry="CN", originalCountryOfMeltAndPour="CN", commodity={
                               "type": ["Commodity"], "commodityCode": "720719", "commodityCodeType": "HS",
                               "description": "Semi-finished products of iron or non-alloy steel, under 0.25 % carbon"})
        melt_file, docs["melt"] = self.issue(MELT_SHOP, "MillTestReportCredential", melt_subject, "meltshop-mtr",
                                             days=365)
        event_subject = example("transformation-event.subject.json")
        event_subject["eventTime"] = stamp(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=5))
        event_subject["consumedProducts"] = [
            {"type": ["SteelProduct"], "identifier": p["identifier"], "heatNumber": p["heatNumber"], "weight": "24.0",
             "weightUnit": "TNE", "sourceCredential": docs["melt"]["id"]} for p in melt_subject["product"]]
        event_subject["newProducts"] = [
            {"type": ["SteelProduct"], "identifier": lot, "weight": "20.0", "weightUnit": "TNE", "commodity": {
                "type": ["Commodity"], "commodityCode": "730419", "commodityCodeType": "HS"}} for lot in PIPE_LOTS]
        event_file, docs["event"] = self.issue("mill", "TransformationEvent", event_subject, "pipe-mill-event",
                                               days=365, derived_from=(melt_file,), cli=True)
        pipe_subject = example("mill-test-report.subject.json")
        pipe_subject["internalCertificateNo"] = "ADN-MTR-2026-004391"
        for product, heat, lot in zip(pipe_subject["product"], CN_HEATS, PIPE_LOTS):
            product.update(identifier=lot, heatNumber=heat, weight="20.0", originalCountryOfMeltAndPour="CN",
                           sourceCredential=docs["event"]["id"])
        docs["pipe"] = self.issue("mill", "MillTestReportCredential", pipe_subject, "pipe-mill-mtr", days=365,
                                  derived_from=(event_file,))[1]
        mtr_subject = example("mill-test-report.subject.json")
        mtr_subject["internalCertificateNo"] = "ADN-MTR-2026-004402"
        for product, heat, lot in zip(mtr_subject["product"], MX_HEATS, ("ADN-LP4-X52-2001..2200", "ADN-LP4-X52-2201..2400")):
            product.update(identifier=lot, heatNumber=heat, weight="40.0")
        docs["mtr"] = self.issue("mill", "MillTestReportCredential", mtr_subject, "mtr-4", days=365)[1]
        docs["coo"] = self.issue("producer", "USMCACertificationOfOrigin",
                                 example("usmca-certification-of-origin.subject.json"), "coo-3")[1]
        single = example("usmca-certification-of-origin.subject.json")
        single["certificationKind"] = "SingleShipment"
        single["goods"] = [dict(single["goods"][0], declaredQuantity={
            "type": ["QuantitativeValue"], "value": "50", "unitCode": "TNE"})]
        docs["single"] = self.issue("producer", "USMCACertificationOfOrigin", single, "coo-4")[1]
        for name, number, tonnes in (("sima", "SIMA-2026-0502231", 40), ("sima-a", "SIMA-2026-0520114", 30),
                                     ("sima-b", "SIMA-2026-0520115", 30)):
            subject = example("sima-steel-import-license.subject.json")
            subject["licenseNumber"] = number
            subject["productInformation"][0]["product"]["weight"]["value"] = tonnes * 1000
            subject["productInformation"][0]["customsValue"]["value"] = tonnes * 1450.0
            docs[name] = self.issue("licensing", "SIMASteelImportLicenseCredential", subject, f"{name}-new", days=75,
                                    jose=True)[1]
        self.publish(www, MELT_SHOP, "mill", "producer", "licensing")


        def lic(key: str) -> str:
            return str(docs[key]["credentialSubject"]["licenseNumber"])

        self.say("  the transshipment:")
        self.say(f"    {MELT_SHOP_NAME}: mill test report {docs['melt']['id']}")
        self.say(f"        heats {', '.join(CN_HEATS)}: round billet, melted and poured in CN, 24 t each")
        self.say(f"    the Mexican mill: transformation event {docs['event']['id']}")
        self.say("        billets in, 40 t of pipe out, pinned to the melt shop's report by its digest")
        self.say("        (vc-issuer issue --type TransformationEvent --subject ... --derived-from meltshop-mtr.json)")
        self.say(f"    the Mexican mill: mill test report {docs['pipe']['id']}")
        self.say("        the pipe lots, finished in MX from those heats, pinned to the event by its digest")
        self.say(f"    a USMCA certification {docs['coo']['id']}; SIMA licence {lic('sima')}, 40 t, melt and pour MX")
        self.say("  the split shipment:")
        self.say(f"    a single-shipment USMCA certification {docs['single']['id']}: 50 t of line pipe")
        self.say(f"    the mill's test report {docs['mtr']['id']} (heats {', '.join(MX_HEATS)}, 40 t each, MX)")
        self.say(f"    SIMA licences {lic('sima-a')} and {lic('sima-b')}, 30 t each")
        files = [self.work / f"{n}.json" for n in ("meltshop-mtr", "pipe-mill-event", "pipe-mill-mtr", "mtr-4", "coo-3", "coo-4")]
        files += [self.work / f"{n}-new.jwt" for n in ("sima", "sima-a", "sima-b")]
        added = self.wallet("add", *[str(f) for f in files], *ca)
        self.say(f"  the importer's wallet verified and kept {added.count('added ')} credentials")
        return docs

    def transshipment(self, server: Any, docs: dict[str, dict[str, Any]]) -> None:
        """The importer presents the pipe's documents and the upstream ones, and declares the pipe
        melted and poured in MX; customs follows the path to the melt shop."""
        presented = [docs[k]["id"] for k in ("pipe", "event", "melt", "coo", "sima")]
        presentation, challenge = self.present(presented, "presentation-3")
        self.say(f"  the importer presents {len(presented)} credentials (the pipe mill's report, its event, the melt "
                 "shop's report, the certification, the licence)")
        self.say("  and declares the pipe as melted and poured in MX:")
        entry = self.line("LRD-2026003-0", 40000, 58000.00, CN_HEATS, docs["sima"]["credentialSubject"]["licenseNumber"],
                          [docs[k]["id"] for k in ("pipe", "coo", "sima")])
        report = self.decide_entry(server, entry, presentation, challenge,
                                   "pipe finished in MX from steel melted and poured in CN, declared MX")
        misdeclared = [f for f in report.line(1).findings if f.rule == "steel.melt-pour.matches-mill"]
        upstream = {e.credential_id for f in misdeclared for e in f.evidence}
        broken = [f for f in report.line(1).findings if f.rule == "supply.path-intact"]
        if (report.decision is not Decision.REJECT or not misdeclared or misdeclared[0].decision is not Decision.REJECT
                or docs["melt"]["id"] not in upstream or not all(h in misdeclared[0].message for h in CN_HEATS)
                or broken):
            raise DemoFailure("the transshipment was not rejected as melted and poured in CN, on the melt shop's "
                              "report, over an intact supply path:\n" + report.summary())

    def split_shipment(self, server: Any, docs: dict[str, dict[str, Any]]) -> None:
        """The importer presents the split shipment's documents once and files two entries of 30 t
        on the 50 t certification; the ledger knows what the first one drew."""
        presentation, challenge = self.present([docs[k]["id"] for k in ("mtr", "single", "sima-a", "sima-b")],
                                               "presentation-4")
        self.say("  the importer presents the four documents once, for both entries")
        reports = []
        for number, licence, what in (("LRD-2026004-8", "sima-a", "30 t of the 50 t single-shipment certification"),
                                      ("LRD-2026005-5", "sima-b", "another 30 t of the same certification")):
            number_of = docs[licence]["credentialSubject"]["licenseNumber"]
            self.say(f"\n  Entry {number}: 30 t on the certification, SIMA licence {number_of}:")
            entry = self.line(number, 30000, 43500.00, MX_HEATS, number_of,
                              [docs[k]["id"] for k in ("mtr", "single", licence)])
            reports.append(self.decide_entry(server, entry, presentation, challenge, what))
        first, second = reports
        if first.decision is not Decision.ACCEPT or not first.recorded:
            raise DemoFailure("the first part of the split shipment was not accepted:\n" + first.summary())
        over = [f for f in second.line(1).findings if f.rule == "quantity.certification"]
        if (second.decision is not Decision.REVIEW or not over or over[0].decision is not Decision.REVIEW
                or first.entry_number not in over[0].message):
            raise DemoFailure("the second entry was not sent to review for going beyond the certification, naming "
                              "the first:\n" + second.summary())

    def documents(self, result: PresentationResult) -> list[VerificationResult]:
        """The reports on the three documents, in the order of ISSUERS (the anchors follow them)."""
        return [next(r for r in result.credentials if r.document_id == self.ids[key]) for key, *_ in ISSUERS]

    def table(self, result: PresentationResult, vp_file: Path) -> None:
        """What ``vc-verify presentation`` ends with: a row per document (the three, then the
        anchors) with its groups of checks and outcome; then the presentation's own checks."""
        shown = shown_presentation(json.loads(vp_file.read_text(encoding="utf-8")), result)
        anchors = [r for r in result.credentials if r not in self.documents(result)]
        self.say()
        self.say(documents_table(shown))
        own = [c for c in result.checks if c.name != "credentials"]
        self.say(f"  anchors: {sum(r.verified for r in anchors)} of {len(anchors)} verified")
        self.say("  presentation: " + ", ".join(f"{c.name} {MARKS[c.outcome.value]}" for c in own))
        for report in result.credentials:
            for check in report.failures + report.errors:
                self.say(f"  ! {report.document_id}: {check.name}: {check.message}")
        self.shown = shown

    def verdict(self, result: PresentationResult) -> None:
        """The verdict ``vc-verify presentation`` ends with, on the documents of the last table."""
        text = verdict(result, self.shown, load_policy(self.policy_file))
        self.say("")
        self.say(textwrap.fill(text, width=100, initial_indent="  ", subsequent_indent="    ", break_long_words=False,
                               break_on_hyphens=False))

    @staticmethod
    def indent(text: str) -> str:
        return "\n".join("  " + line for line in text.rstrip().splitlines())


def main(out: Callable[[str], None] = print, output: Path = Path("demo-output")) -> int:
    """Run the demo, writing its lines with ``out`` and its HTML entry reports to ``output``."""
    with tempfile.TemporaryDirectory(prefix="tradevc-demo-") as work:
        try:
            Demo(Path(work), out, output).main()
        except DemoFailure as e:
            out(f"\nDEMO FAILED: {e}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
