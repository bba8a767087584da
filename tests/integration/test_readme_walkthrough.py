"""The README's walkthrough runs as written: its shell blocks (each marked ``<!-- walkthrough -->``
and fenced ``sh``) are taken verbatim, in order, and run in one ``bash -euo pipefail`` in an
empty directory, with only PATH (the virtual environment's commands first), HOME, PYTHONPATH
(this checkout) and PORT (a free one) set, as on a fresh machine. The walkthrough starts
``vc-issuer serve-site`` in the background and stops it at its end; whatever happens, the
process group is ended here too."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from support.site_process import free_port

MARK = "<!-- walkthrough -->"


def walkthrough_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"{re.escape(MARK)}\n```sh\n(.*?)```", text, flags=re.S)


def test_the_walkthrough_blocks_are_marked_and_complete():
    blocks = walkthrough_blocks()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(blocks) >= 4 and text.count(MARK) == len(blocks), "each marker is followed by a ```sh block"
    script = "\n".join(blocks)
    assert "..." not in script and "urn:uuid:" not in script, "no placeholders: ids are captured with $(...)"
    for command in ("vc-issuer init", "vc-issuer serve-site", "vc-verify credential", "vc-wallet present",
                    "vc-verify challenge new", "vc-verify presentation", "vc-issuer revoke"):
        assert command in script


def test_the_walkthrough_runs_as_written(tmp_path):
    script = "\n".join(walkthrough_blocks())
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "PORT": str(free_port()),
        "LANG": "C.UTF-8",
    }
    process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a server left behind by a failed step
        except ProcessLookupError:
            pass
    assert process.returncode == 0, output
    lines = output.splitlines()
    verified = [i for i, line in enumerate(lines) if line.startswith("VERIFIED")]
    not_verified = [i for i, line in enumerate(lines) if line.startswith("NOT VERIFIED")]
    assert len(verified) >= 2, output  # the credential, then the presentation
    assert len(not_verified) == 1 and not_verified[0] > max(verified), output  # after the revocation
    assert "REVOKED" in "\n".join(lines[not_verified[0]:])
    logs = list(work.rglob("site.log"))
    assert len(logs) == 1 and logs[0].read_text().splitlines()[-1] == "stopped"
