"""``vc-verify pack build|show|diff|keygen`` and ``vc-verify credential|presentation --pack``,
against the local HTTPS server: exit codes, and one line (never a traceback) for bad input."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from conftest import write_context_folder
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.verifier.cli import cli
from tradevc.verifier.pack import inspect_pack

PASS = b"issuer passphrase"
VALID_FROM = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)


def run(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env or {"TRADEVC_PACK_SIGNERS": ""})
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def border(https_server, tmp_path):
    """A mill on the local server, customs' key and policy, a certificate and its files."""
    mill = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=f"{https_server.host}/mill",
                       status_base_url=https_server.url("mill/status/"))
    coo = mill.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                     valid_from=VALID_FROM.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     valid_until=(VALID_FROM + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    mill.publish(https_server.root)
    (tmp_path / "coo.json").write_text(json.dumps(coo))
    (tmp_path / "policy.json").write_text(json.dumps(
        {"trustedIssuers": [{"did": mill.did, "name": "Aceros", "types": ["USMCACertificationOfOrigin"]}]}))
    made = run("pack", "keygen", "--out", tmp_path / "customs-key.json")
    assert made.exit_code == 0
    signer = made.stdout.strip()
    assert signer.startswith("did:key:z6Mk")
    assert (tmp_path / "customs-key.json").stat().st_mode & 0o777 == 0o600
    yield {"mill": mill, "coo": coo, "dir": tmp_path, "signer": signer, "server": https_server}
    mill.close()


def build(border, out="laredo.pack", *extra):
    d, server = border["dir"], border["server"]
    return run("pack", "build", "--policy", d / "policy.json", "--key", d / "customs-key.json", "--out", d / out,
               "--credential", d / "coo.json", "--ca-bundle", server.ca_path, "--allow-host", server.host, *extra)


def test_build_then_verify_a_credential_and_a_presentation_offline(border):
    d = border["dir"]
    built = build(border, "port-of-laredo.pack")
    assert built.exit_code == 0, built.output
    assert 'wrote' in built.stdout and 'pack "port-of-laredo" version 1' in built.stdout
    assert (d / "port-of-laredo.pack").stat().st_mode & 0o777 == 0o600
    border["server"].reset()  # the mill's site is gone: the border post has no network

    ok = run("credential", d / "coo.json", "--pack", d / "port-of-laredo.pack", "--pack-signer", border["signer"],
             "--offline")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("VERIFIED")
    assert f'trust_pack: pack "port-of-laredo" version 1, built' in ok.stdout and border["signer"] in ok.stdout
    as_json = run("credential", d / "coo.json", "--pack", d / "port-of-laredo.pack", "--offline", "--json",
                  env={"TRADEVC_PACK_SIGNERS": f"did:key:z6MkOther {border['signer']}"})
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["checks"][0]["data"]["version"] == 1

    holder = KeyPair.generate("Ed25519")
    vp = sign_presentation([border["coo"]], holder, challenge="c-77", domain="cbp.gov", cryptosuite="eddsa-jcs-2022")
    (d / "vp.json").write_text(json.dumps(vp))
    presented = run("presentation", d / "vp.json", "--challenge", "c-77", "--domain", "cbp.gov", "--pack",
                    d / "port-of-laredo.pack", "--pack-signer", border["signer"], "--offline")
    assert presented.exit_code == 0, presented.output
    assert "trust_pack" in presented.stdout
    assert border["server"].requested == []


def test_a_revoked_credential_fails_offline(border):
    border["mill"].revoke(border["coo"]["id"])
    border["mill"].publish(border["server"].root)
    assert build(border).exit_code == 0
    d = border["dir"]
    result = run("credential", d / "coo.json", "--pack", d / "laredo.pack", "--pack-signer", border["signer"], "--offline")
    assert result.exit_code == 1 and "REVOKED" in result.stdout


def test_refused_packs_and_bad_usage_exit_with_one_line(border):
    assert build(border).exit_code == 0
    d, signer = border["dir"], border["signer"]
    pack = d / "laredo.pack"
    base = ("credential", d / "coo.json", "--offline")
    cases = {
        "no signer": ((*base, "--pack", pack), 2, "no trusted pack signer"),
        "other signer": ((*base, "--pack", pack, "--pack-signer", KeyPair.generate().did), 2, "not a trusted pack signer"),
        "not a did:key": ((*base, "--pack", pack, "--pack-signer", "did:web:customs.example"), 2, "not a pack signer"),
        "both": ((*base, "--pack", pack, "--pack-signer", signer, "--trust", d / "policy.json"), 2, "do not also give --trust"),
        "neither": (base, 2, "give --trust FILE"),
        "missing pack": ((*base, "--pack", d / "none.pack", "--pack-signer", signer), 2, "cannot read the trust pack"),
    }
    (d / "garbage.pack").write_bytes(b"\x00not a pack")
    cases["malformed"] = ((*base, "--pack", d / "garbage.pack", "--pack-signer", signer), 2, "not a trust pack")
    data = pack.read_bytes()
    (d / "tampered.pack").write_bytes(data.replace(b"assertionMethod", b"assertionMethoD", 1))
    cases["tampered"] = ((*base, "--pack", d / "tampered.pack", "--pack-signer", signer), 2, "does not verify")
    for name, (args, code, message) in cases.items():
        result = run(*args)
        assert result.exit_code == code, (name, result.output)
        assert message in result.output, (name, result.output)


def test_a_stale_pack_exits_3(border):
    assert build(border, "laredo.pack", "--max-staleness", "1s").exit_code == 0
    time.sleep(1.2)
    d = border["dir"]
    result = run("credential", d / "coo.json", "--pack", d / "laredo.pack", "--pack-signer", border["signer"], "--offline")
    assert result.exit_code == 3 and "expired" in result.stderr and result.stdout == ""


def test_build_refuses_bad_input_with_one_line(border):
    d, server = border["dir"], border["server"]
    (d / "bad-key.json").write_text('{"kty": "OKP"}')
    (d / "public-key.json").write_text(json.dumps(KeyPair.generate().to_multikey()))
    (d / "bad-policy.json").write_text("{not json")
    common = ("--out", d / "x.pack", "--ca-bundle", server.ca_path, "--allow-host", server.host)
    cases = [
        (("--policy", d / "missing.json", "--key", d / "customs-key.json"), 2, "cannot read the policy"),
        (("--policy", d / "bad-policy.json", "--key", d / "customs-key.json"), 2, "is not JSON"),
        (("--policy", d / "policy.json", "--key", d / "bad-key.json"), 2, "no usable key"),
        (("--policy", d / "policy.json", "--key", d / "public-key.json"), 2, "no usable key"),
        (("--policy", d / "policy.json", "--key", d / "missing-key.json"), 2, "cannot read the key file"),
        (("--policy", d / "policy.json", "--key", d / "customs-key.json", "--max-staleness", "soon"), 2, "duration"),
        (("--policy", d / "policy.json", "--key", d / "customs-key.json", "--previous", d / "none.pack"), 2,
         "cannot read the trust pack"),
        (("--policy", d / "policy.json", "--key", d / "customs-key.json", "--mirror-file", d / "bad-policy.json"), 2,
         "--mirror-file"),
        (("--policy", d / "policy.json", "--key", d / "customs-key.json", "--mirror-file", d / "none.json"), 2,
         "cannot read"),
    ]
    for args, code, message in cases:
        result = run("pack", "build", *args, *common)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
    server.reset()
    gone = build(border)
    assert gone.exit_code == 3 and border["mill"].did in gone.stderr and "not built" in gone.stderr
    assert not (d / "laredo.pack").exists()


def test_build_reads_mapped_hosts_from_their_mirror(border, https_server, tmp_path):
    """A mill whose did:web host is not the server's: the pack holds its documents read from
    the mirror (without the mirror the build would look the host up, which tests never do)."""
    d = border["dir"]
    away = Issuer.init(tmp_path / "away", PASS, name="Away Mill", did_web_domain="away-mill.example",
                       status_base_url="https://away-mill.example/status/")
    away.publish(https_server.root / "away-mill.example")
    (d / "away-policy.json").write_text(json.dumps(
        {"trustedIssuers": [{"did": away.did, "name": "Away", "types": ["MillTestReportCredential"]}]}))
    (d / "mirror.json").write_text(json.dumps({"hosts": {"away-mill.example": https_server.url("away-mill.example/")}}))
    common = ("pack", "build", "--policy", d / "away-policy.json", "--key", d / "customs-key.json", "--out",
              d / "away.pack", "--ca-bundle", https_server.ca_path)
    built = run(*common, "--mirror-file", d / "mirror.json")
    assert built.exit_code == 0, built.output
    assert away.did in inspect_pack(d / "away.pack", trusted_signers=[border["signer"]]).did_documents
    away.close()


def test_show_and_diff(border, tmp_path):
    d, signer = border["dir"], border["signer"]
    contexts = write_context_folder(tmp_path / "ctx", {"https://contexts.steel.example/lot/v1": {
        "@context": {"heatNumber": "https://contexts.steel.example/lot#heatNumber"}}})
    assert build(border, "v1.pack", "--name", "port-of-laredo", "--contexts", contexts).exit_code == 0
    shown = run("pack", "show", d / "v1.pack")
    assert shown.exit_code == 0, shown.output
    for text in ('pack "port-of-laredo" version 1', f"signed by {signer}", "NOT checked", border["mill"].did,
                 "status list https://", "contexts 1"):
        assert text in shown.stdout, text
    checked = run("pack", "show", d / "v1.pack", "--pack-signer", signer, "--json")
    assert checked.exit_code == 0
    assert json.loads(checked.stdout)["signatureChecked"] is True
    assert run("pack", "show", d / "v1.pack", "--pack-signer", KeyPair.generate().did).exit_code == 2

    status = border["coo"]["credentialStatus"]
    entry = status[0] if isinstance(status, list) else status
    border["mill"].revoke(border["coo"]["id"])
    border["mill"].home.rotate_key(PASS)
    border["mill"].publish(border["server"].root)
    rebuilt = build(border, "v2.pack", "--previous", d / "v1.pack", "--refetch-all")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert 'version 2' in rebuilt.stdout
    v2 = inspect_pack(d / "v2.pack", trusted_signers=[signer])
    assert v2.version == 2 and v2.contexts is not None  # the contexts carried over from v1
    assert v2.loader()("https://contexts.steel.example/lot/v1")["document"]["@context"]["heatNumber"]

    changes = run("pack", "diff", d / "v1.pack", d / "v2.pack", "--pack-signer", signer)
    assert changes.exit_code == 0, changes.output
    assert f"~ issuer {border['mill'].did}: DID document changed" in changes.stdout
    assert "+ method " in changes.stdout
    assert f"newly set (revocation): {entry['statusListIndex']}" in changes.stdout
    as_json = json.loads(run("pack", "diff", d / "v1.pack", d / "v2.pack", "--json").stdout)
    assert as_json["new"]["signatureChecked"] is False
    assert [c["newlySet"] for c in as_json["statusLists"]["changed"] if c["purpose"] == "revocation"] == [
        [int(entry["statusListIndex"])]]
    assert run("pack", "diff", d / "v1.pack", d / "nothing.pack").exit_code == 2


def test_a_batch_is_verified_with_a_pack(border):
    assert build(border).exit_code == 0
    d = border["dir"]
    inbox = d / "inbox"
    inbox.mkdir()
    (inbox / "coo.json").write_text(json.dumps(border["coo"]))
    border["server"].reset()
    result = run("batch", inbox, "--pack", d / "laredo.pack", "--pack-signer", border["signer"], "--workers", "1",
                 "--json")
    assert result.exit_code == 0, result.output
    assert run("batch", inbox, "--pack", d / "laredo.pack", "--workers", "1").exit_code == 2  # no signer
    assert run("batch", inbox, "--workers", "1").exit_code == 2  # neither --trust nor --pack
