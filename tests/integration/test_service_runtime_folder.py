"""The private folder of ``tradevc-serve``'s workers, with real processes: made in
``$RUNTIME_DIRECTORY`` when systemd gives one, and when a supervisor is killed (SIGKILL: no
clean-up), its folder is removed by the next start."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from support.service import mill_service
from support.site_process import free_port


def shared_folder(service) -> Path:
    found = [e["message"].rsplit(" ", 1)[1] for e in service.log_entries() if "sharing the private folder" in e["message"]]
    assert len(found) == 1, found
    return Path(found[0])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_killed_supervisor_s_folder_is_removed_by_the_next_start(tmp_path):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    first = mill_service(tmp_path / "first", free_port(), listen="workers = 2", env={"RUNTIME_DIRECTORY": str(run)})
    try:
        folder = shared_folder(first)
        assert folder.parent == run and folder.is_dir()
        assert (folder / "supervisor.pid").read_text().split()[0] == str(first.process.pid)
        workers = {e["pid"] for e in first.log_entries()} - {first.process.pid}
    finally:
        first.stop(signal.SIGKILL)
    for _ in range(300):  # its workers see their parent gone and stop by themselves
        if all(gone(pid) for pid in workers):
            break
        time.sleep(0.1)
    assert folder.is_dir()  # nothing cleaned up after a SIGKILL
    second = mill_service(tmp_path / "second", free_port(), listen="workers = 2", env={"RUNTIME_DIRECTORY": str(run)})
    try:
        assert not folder.exists()
        assert shared_folder(second).parent == run
        assert any(str(folder) in e["message"] and "no longer running" in e["message"] for e in second.log_entries())
    finally:
        assert second.stop() == 0
    assert list(run.iterdir()) == []
