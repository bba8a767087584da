"""``vc-verify entry`` takes the options every other ``vc-verify`` command takes to build its
verifier: an offline trust pack (``--pack``/``--pack-signer``, whose policy's entryRules
apply), ``--snapshot``/``--mirror``/``--mirror-file``, ``--stale-status-if-error``,
``--schemas``, ``--compat``, ``--contexts``, ``--allow-host``. Real files: a pack built and
signed by ``vc-verify pack build``, a signed status list in a snapshot directory."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.entries import BROKER, CHALLENGE, DOMAIN, World
from support.parties import PartiesWorld, power_of_attorney, status_snapshot
from tradevc.verifier.cli import cli

AT = "2026-03-10T12:00:00Z"
PACK_RULE = {"expressions": [{"id": "policy.from-the-pack", "decision": "REVIEW", "source": "port directive 9",
                              "when": "line.hts.startsWith('7304')", "message": "pipe: seen by the pack's rule"}]}


def run(*args: Any, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env or {"TRADEVC_PACK_SIGNERS": ""})
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def write(world: World, folder: Path) -> tuple[Path, Path, Path]:
    entry, vp, policy = folder / "entry.json", folder / "vp.json", folder / "border-policy.json"
    entry.write_text(json.dumps(world.declaration()), encoding="utf-8")
    vp.write_text(json.dumps(world.presentation()), encoding="utf-8")
    policy.write_text(json.dumps(world.policy), encoding="utf-8")
    return entry, vp, policy


@pytest.fixture
def packed(tmp_path: Path) -> dict[str, Any]:
    """Today's steel entry, and a pack of the border policy (with an entry rule of its own)
    built and signed now by customs' key."""
    today = datetime.now(timezone.utc).date()
    world = World.steel(today)
    world.policy["entryRules"] = PACK_RULE
    entry, vp, policy = write(world, tmp_path)
    made = run("pack", "keygen", "--out", tmp_path / "customs-key.json")
    assert made.exit_code == 0, made.output
    built = run("pack", "build", "--policy", policy, "--key", tmp_path / "customs-key.json",
                "--out", tmp_path / "border.pack")
    assert built.exit_code == 0, built.output
    return {"entry": entry, "vp": vp, "policy": policy, "pack": tmp_path / "border.pack", "dir": tmp_path,
            "signer": made.stdout.strip()}


def entry_args(p: dict[str, Any]) -> list[Any]:
    return ["entry", p["entry"], p["vp"], "--challenge", CHALLENGE, "--domain", DOMAIN]


def test_an_entry_decided_with_a_trust_pack(packed: dict[str, Any]) -> None:
    result = run(*entry_args(packed), "--pack", packed["pack"], "--pack-signer", packed["signer"], "--offline",
                 "--json")
    assert result.exit_code == 4, result.output  # REVIEW: the pack's own entry rule
    report = json.loads(result.stdout)
    assert [f["message"] for f in report["lines"][0]["findings"] if f["rule"] == "policy.from-the-pack"] == [
        "pipe: seen by the pack's rule"]
    assert all(d["verified"] for d in report["documents"]), report["documents"]
    # the signer may come from the environment, as for the other commands
    by_env = run(*entry_args(packed), "--pack", packed["pack"], env={"TRADEVC_PACK_SIGNERS": packed["signer"]})
    assert by_env.exit_code == 4, by_env.output


def test_a_pack_signed_by_another_key_is_refused(packed: dict[str, Any]) -> None:
    other = run("pack", "keygen", "--out", packed["dir"] / "other-key.json").stdout.strip()
    result = run(*entry_args(packed), "--pack", packed["pack"], "--pack-signer", other)
    assert result.exit_code == 2 and result.output.startswith("error:") and "signed" in result.output


@pytest.mark.parametrize("content", [b"not a pack", b"{}", b"\xff\xfe"])
def test_a_bad_pack_is_a_usage_error_without_traceback(packed: dict[str, Any], content: bytes) -> None:
    bad = packed["dir"] / "bad.pack"
    bad.write_bytes(content)
    result = run(*entry_args(packed), "--pack", bad, "--pack-signer", packed["signer"])
    assert result.exit_code == 2 and result.output.startswith("error:"), result.output


def test_a_missing_pack_is_a_usage_error(packed: dict[str, Any]) -> None:
    result = run(*entry_args(packed), "--pack", packed["dir"] / "nowhere.pack", "--pack-signer", packed["signer"])
    assert result.exit_code == 2 and "nowhere.pack" in result.output


def test_a_pack_and_a_trust_policy_are_not_both_given(packed: dict[str, Any]) -> None:
    result = run(*entry_args(packed), "--pack", packed["pack"], "--pack-signer", packed["signer"],
                 "--trust", packed["policy"])
    assert result.exit_code == 2 and "--trust" in result.output


def test_neither_a_pack_nor_a_trust_policy(packed: dict[str, Any]) -> None:
    result = run(*entry_args(packed))
    assert result.exit_code == 2 and "--trust" in result.output and "--pack" in result.output


@pytest.mark.parametrize("revoked,code", [((), 0), ((7,), 4)])
def test_status_lists_from_a_snapshot(tmp_path: Path, revoked: tuple[int, ...], code: int) -> None:
    # the broker presents with the importer's power of attorney, whose status list is in the snapshot
    world = PartiesWorld.steel()
    world.holder = BROKER
    world.credentials.append(power_of_attorney(day=world.day))
    entry, vp, policy = write(world, tmp_path)
    snapshot = status_snapshot(tmp_path / "snapshot", day=world.day, revoked=revoked)
    base = ["entry", entry, vp, "--trust", policy, "--challenge", CHALLENGE, "--domain", DOMAIN, "--at", AT]
    result = run(*base, "--offline", "--snapshot", snapshot)
    assert result.exit_code == code, result.output
    if revoked:
        assert "revoked" in result.output
    # the same snapshot named by a mirror file
    (tmp_path / "mirrors.json").write_text(json.dumps({"snapshots": ["snapshot"]}))
    assert run(*base, "--offline", "--mirror-file", tmp_path / "mirrors.json").exit_code == code
    # without it, the power's status cannot be read: REVIEW
    assert run(*base, "--offline").exit_code == 4


@pytest.mark.parametrize("option,value,named", [
    ("--mirror", "no-equals-sign", "--mirror"),
    ("--mirror-file", "missing.json", "--mirror-file"),
    ("--snapshot", "missing-dir", "--snapshot"),
    ("--allow-host", "not a host!", "--allow-host"),
    ("--compat", "no-such-profile", "--compat"),
    ("--contexts", "missing-contexts", "--contexts"),
    ("--schemas", "missing-schemas", "--schemas"),
    ("--stale-status-if-error", "0", "--stale-status-if-error"),
])
def test_bad_verifier_options_are_usage_errors(tmp_path: Path, option: str, value: str, named: str) -> None:
    world = World.steel()
    entry, vp, policy = write(world, tmp_path)
    result = run("entry", entry, vp, "--trust", policy, "--challenge", CHALLENGE, "--domain", DOMAIN, "--at", AT,
                 option, tmp_path / value if value.startswith("missing") else value)
    assert result.exit_code == 2, result.output
    assert named in result.output and "no such option" not in result.output.lower()


def test_the_verifier_options_are_the_presentation_commands(tmp_path: Path) -> None:
    """Every option that builds the verifier of 'vc-verify presentation' is an option of 'entry' too."""
    def options(name: str) -> set[str]:
        command = cli.commands[name]  # type: ignore[attr-defined]
        return {o for p in command.params for o in p.opts if o.startswith("--")}
    shared = options("presentation") - {"--challenges", "--json", "--color", "--brief"}  # how the report is printed
    assert shared <= options("entry"), shared - options("entry")
