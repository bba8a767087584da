"""``vc-verify presentation`` and ``vc-verify batch`` as a user meets them (issue 18, points 1
and 10): an empty challenge, presentations in a batch without one, files that cannot be read
or are not documents, nothing to verify, the text summary naming every failing file, and
Ctrl-C. Real files, the real CLI (CliRunner, or a subprocess where a terminal or a signal
matters)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli
from tradevc.wallet import sign_presentation

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text("utf-8"))
KEY = KeyPair.generate("Ed25519")
CHALLENGE, DOMAIN = "c-18", "cbp.gov"
NEEDS = "needs --challenge and --domain"


def credential(number: int = 0) -> dict:
    document = copy.deepcopy(REFERENCE)
    document["id"] = f"urn:uuid:00000000-0000-0000-0000-{number:012d}"
    document["issuer"]["id"] = KEY.did
    del document["validUntil"], document["credentialStatus"]
    return sign_credential(document, KEY, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def good() -> dict:
    return credential()


@pytest.fixture(scope="module")
def vp(good) -> dict:
    return sign_presentation([good], KEY, challenge=CHALLENGE, domain=DOMAIN, created="2026-06-01T00:00:00Z")


@pytest.fixture
def trust(tmp_path) -> Path:
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"trustedIssuers": [
        {"did": KEY.did, "name": "Mill", "types": ["USMCACertificationOfOrigin"]}]}))
    return path


def unreadable(path: Path) -> Path:
    """A *.json that cannot be opened, even by root: a symbolic link to nothing."""
    path.symlink_to(path.parent / "gone-missing")
    return path


@pytest.fixture
def inbox(tmp_path, good, vp) -> Path:
    """A good credential, a presentation, a garbage file, an unreadable file and a note."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a-good.json").write_text(json.dumps(good))
    (folder / "b-vp.json").write_text(json.dumps(vp))
    (folder / "c-garbage.json").write_text("{this is not json")
    unreadable(folder / "d-unreadable.json")
    (folder / "notes.txt").write_text("not a document")
    return folder


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def report_of(result) -> dict:
    return json.loads(result.stdout)


# -- point 1: an empty or missing challenge ----------------------------------------------------


@pytest.mark.parametrize("challenge,domain,named", [
    ("", "", "--challenge"), ("", DOMAIN, "--challenge"), ("   ", DOMAIN, "--challenge"), (CHALLENGE, "", "--domain"),
])
def test_presentation_with_an_empty_challenge_or_domain_is_one_usage_line(tmp_path, trust, vp, challenge, domain, named):
    file = tmp_path / "vp.json"
    file.write_text(json.dumps(vp))
    r = run("presentation", file, "--trust", trust, "--offline", "--challenge", challenge, "--domain", domain)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output and "ValueError" not in r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {named} is empty"), r.stderr


def test_presentation_with_its_challenge_and_domain_still_verifies(tmp_path, trust, vp):
    file = tmp_path / "vp.json"
    file.write_text(json.dumps(vp))
    r = run("presentation", file, "--trust", trust, "--offline", "--challenge", CHALLENGE, "--domain", DOMAIN)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("VERIFIED")


@pytest.mark.parametrize("options", [[], ["--challenge", ""], ["--challenge", "", "--domain", ""],
                                     ["--challenge", CHALLENGE], ["--domain", DOMAIN]])
def test_a_batch_without_a_usable_challenge_reports_the_presentation_and_verifies_the_rest(inbox, trust, options):
    r = run("batch", inbox, "--trust", trust, "--offline", "--workers", "1", "--json", *options)
    assert "Traceback" not in r.output
    report = report_of(r)
    by_file = {Path(d["source"]).name: d for d in report["documents"]}
    assert set(by_file) == {"a-good.json", "b-vp.json", "c-garbage.json"}
    assert by_file["a-good.json"]["status"] == "verified"
    assert by_file["b-vp.json"]["reason"] == NEEDS
    assert "MALFORMED_VALUE_ERROR" not in json.dumps(report)
    assert by_file["c-garbage.json"]["reason"] == "structure: PARSING_ERROR"
    assert [Path(s["source"]).name for s in report["skippedFiles"]] == ["d-unreadable.json", "notes.txt"]
    assert r.exit_code == 1  # the garbage file is not verified


def test_a_batch_with_the_challenge_verifies_the_presentation(inbox, trust):
    r = run("batch", inbox, "--trust", trust, "--offline", "--workers", "2", "--json",
            "--challenge", CHALLENGE, "--domain", DOMAIN)
    by_file = {Path(d["source"]).name: d for d in report_of(r)["documents"]}
    assert by_file["b-vp.json"]["status"] == "verified" and by_file["a-good.json"]["status"] == "verified"


def test_a_presentation_without_a_challenge_could_not_be_verified_and_exits_3(tmp_path, trust, good, vp):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(good))
    (folder / "vp.json").write_text(json.dumps(vp))
    r = run("batch", folder, "--trust", trust, "--offline", "--workers", "1")
    assert r.exit_code == 3, r.output
    assert f"vp.json: could not verify: {NEEDS}" in r.stdout
    r = run("batch", folder, "--trust", trust, "--offline", "--workers", "1", "--challenge", CHALLENGE,
            "--domain", DOMAIN)
    assert r.exit_code == 0, r.output


# -- point 10: what the summary says -----------------------------------------------------------


def test_the_text_summary_names_every_failing_file_with_its_reason(inbox, trust):
    r = run("batch", inbox, "--trust", trust, "--offline", "--workers", "2")
    assert r.exit_code == 1, r.output
    out = r.stdout
    assert f"{inbox / 'b-vp.json'}: could not verify: {NEEDS}" in out
    assert f"{inbox / 'c-garbage.json'}: not verified: structure: PARSING_ERROR" in out
    assert f"{inbox / 'd-unreadable.json'}: skipped: unreadable" in out
    assert f"{inbox / 'notes.txt'}: skipped: unrecognised" in out
    assert "a-good.json" not in out  # verified files are counted, not listed
    assert "skipped (unreadable)" in out and "skipped (unrecognised)" in out


def test_unreadable_files_alone_make_a_batch_could_not_verify(tmp_path, trust, good):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(good))
    r = run("batch", folder, "--trust", trust, "--offline", "--workers", "1")
    assert r.exit_code == 0 and "skipped" not in r.stdout, r.output
    unreadable(folder / "lost.json")
    r = run("batch", folder, "--trust", trust, "--offline", "--workers", "1", "--json")
    assert r.exit_code == 3, r.output
    report = report_of(r)
    assert report["verified"] == 1 and report["skipped"] == {"unreadable": 1, "unrecognised": 0}
    (folder / "lost.json").unlink()
    (folder / "README.md").write_text("# not a document")
    r = run("batch", folder, "--trust", trust, "--offline", "--workers", "1")
    assert r.exit_code == 0, r.output  # an unrecognised file is counted, it does not fail the batch
    assert "README.md: skipped: unrecognised" in r.stdout


@pytest.mark.parametrize("content", [{}, {"notes.txt": "hello"}, "unreadable"])
def test_nothing_to_verify_exits_2(tmp_path, trust, content):
    folder = tmp_path / "in"
    folder.mkdir()
    if content == "unreadable":
        unreadable(folder / "lost.json")
    else:
        for name, text in content.items():
            (folder / name).write_text(text)
    r = run("batch", folder, "--trust", trust, "--offline", "--workers", "1")
    assert r.exit_code == 2, r.output
    assert r.stderr.strip().splitlines()[-1].startswith(f"error: nothing to verify in {folder}")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    r = run("batch", empty, "--trust", trust, "--offline", "--workers", "1")
    assert r.exit_code == 2 and "error: nothing to verify" in r.stderr, r.output


def test_a_json_lines_line_that_is_not_utf8_costs_only_itself(tmp_path, trust, good):
    lines = [json.dumps(good).encode(), b'{"name": "Trevi\xf1o"}', json.dumps(credential(1)).encode()]
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(b"\n".join(lines) + b"\n")
    r = run("batch", batch, "--trust", trust, "--offline", "--workers", "1", "--json")
    assert r.exit_code == 1, r.output
    report = report_of(r)
    assert report["verified"] == 2 and report["notVerified"] == {"structure: PARSING_ERROR": 1}
    assert "not UTF-8" in report["documents"][1]["message"]


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tradevc.verifier", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, **kw,
    )


def test_piped_output_has_no_progress_noise(inbox, trust):
    process = _cli("batch", str(inbox), "--trust", str(trust), "--offline", "--workers", "2")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert err == "", err  # no progress bar, no label, no escape sequences
    assert "\x1b" not in out and "\r" not in out
    assert out.splitlines()[0].split() == ["outcome", "reason", "documents"]


def _on_a_terminal(
    *args: str, stdout_too: bool = False, no_color: bool = False, columns: int = 80,
) -> tuple[subprocess.Popen, int]:
    """``vc-verify`` with stderr on a pseudo-terminal (``columns`` x 24; stdout stays a pipe
    unless ``stdout_too``), in its own process group; and the terminal's end to read what it
    draws."""
    import fcntl
    import struct
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    if no_color:
        env["NO_COLOR"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "tradevc.verifier", *args], cwd=ROOT, stdout=follower if stdout_too else subprocess.PIPE,
        stderr=follower, text=True, env=env, start_new_session=True,
    )
    os.close(follower)
    return process, leader


def _read_until(fd: int, pattern: str, *, seconds: float) -> str:
    """What the terminal showed, up to the first match of ``pattern`` (a regex)."""
    import re
    import select

    seen, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the process closed the terminal
                break
            text = seen.decode("utf-8", "replace")
            if re.search(pattern, text):
                return text
    raise AssertionError(f"{pattern!r} not shown in {seconds} s: {seen[-500:]!r}")


def _communicate(process: subprocess.Popen, fd: int, *, seconds: float = 120) -> tuple[str, str]:
    """Wait for ``process`` to end, reading its terminal all the while: a terminal nobody reads
    fills up (a few KiB) and blocks the writer, so waiting without reading could hang a batch
    that draws progress on a slow machine. Returns its stdout and what the terminal showed."""
    import threading

    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the process closed the terminal
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = process.communicate(timeout=seconds)
    reader.join(timeout=5)
    return out, b"".join(shown).decode("utf-8", "replace")


def test_ctrl_c_prints_the_partial_summary_and_exits_130(tmp_path, trust, good):
    """A batch big enough to be interrupted; SIGINT to the whole process group, the workers
    too, as a terminal's Ctrl-C sends it, once the progress bar shows documents verified."""
    count = 8000
    batch = tmp_path / "big.jsonl"
    batch.write_text((json.dumps(good) + "\n") * count)
    process, terminal = _on_a_terminal("batch", str(batch), "--trust", str(trust), "--offline",
                                              "--workers", "2", "--json")
    try:
        shown = _read_until(terminal, rf"verifying.*\b[1-9][0-9]*/{count}\b.*docs/s", seconds=120)
        assert process.poll() is None, "the batch finished before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        out, after = _communicate(process, terminal)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    assert process.returncode == 130, out
    assert "error: interrupted" in after, after
    assert "Traceback" not in after and "KeyboardInterrupt" not in after, after
    assert "verifying" in shown
    report = json.loads(out)
    assert report["interrupted"] is True and report["planned"] == count
    assert 0 < report["total"] < count and report["verified"] == report["total"]
    assert f"error: interrupted after {report['total']} of {count} documents" in after


def test_a_batch_runs_to_the_end_with_progress_on_a_terminal(inbox, trust):
    """The counterpart of the two tests above: not interrupted, the same summary and exit."""
    process, terminal = _on_a_terminal("batch", str(inbox), "--trust", str(trust), "--offline",
                                              "--workers", "1", "--json")
    try:
        out, _shown = _communicate(process, terminal)
    finally:
        os.close(terminal)
    assert process.returncode == 1
    report = json.loads(out)
    assert "interrupted" not in report and report["total"] == 3


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the workers through /proc")
def test_a_worker_killed_midway_costs_the_rest_of_the_batch_but_not_the_summary(tmp_path, trust, good):
    """As the OOM killer would: SIGKILL to one worker once documents are being verified."""
    count = 8000
    batch = tmp_path / "big.jsonl"
    batch.write_text((json.dumps(good) + "\n") * count)
    process, terminal = _on_a_terminal("batch", str(batch), "--trust", str(trust), "--offline",
                                              "--workers", "2", "--json")
    try:
        _read_until(terminal, rf"verifying.*\b[1-9][0-9]*/{count}\b", seconds=120)
        workers = _children(process.pid)
        assert workers, "no worker processes"
        os.kill(workers[0], signal.SIGKILL)
        out, after = _communicate(process, terminal)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    assert process.returncode == 3, out
    assert "error: a worker process stopped" in after and "Traceback" not in after, after
    report = json.loads(out)
    assert report["interrupted"] is True and report["planned"] == count and report["total"] < count


@pytest.mark.parametrize("no_color", [False, True])
def test_on_a_terminal_the_summary_is_drawn_as_tables(inbox, trust, no_color):
    process, terminal = _on_a_terminal("batch", str(inbox), "--trust", str(trust), "--offline",
                                              "--workers", "1", stdout_too=True, no_color=no_color, columns=300)
    try:
        shown = _read_until(terminal, "notes\\.txt[^\u2518]*\u2518", seconds=120)  # to the last table's corner
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(terminal)
    assert process.returncode == 1
    assert "files that did not verify or were skipped" in shown and "c-garbage.json" in shown
    assert "\u2502" in shown  # box drawing, not the plain text table
    assert ("\x1b[31m" in shown) is (not no_color)  # "not verified" in red, unless NO_COLOR
