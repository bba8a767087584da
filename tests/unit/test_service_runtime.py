"""Where ``tradevc-serve`` puts the private folder its workers share, and which leftovers of
earlier starts it removes: only ``tradevc-serve-*`` folders of this user, mode 0700, whose pid
file names a supervisor no longer alive."""

from __future__ import annotations

import os
import subprocess
import sys

from tradevc.service.workers import Runtime, remove_leftovers, runtime_base


def leftover(base, name, pid, mode=0o700):
    folder = base / f"tradevc-serve-{name}"
    folder.mkdir()
    folder.chmod(mode)
    if pid is not None:
        (folder / "supervisor.pid").write_text(pid)
    return folder


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_runtime_folder_goes_where_systemd_or_xdg_says(tmp_path, monkeypatch):
    systemd, xdg = tmp_path / "systemd", tmp_path / "xdg"
    systemd.mkdir()
    xdg.mkdir()
    monkeypatch.setenv("RUNTIME_DIRECTORY", f"{systemd}:{tmp_path / 'other'}")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    assert runtime_base() == systemd
    monkeypatch.delenv("RUNTIME_DIRECTORY")
    assert runtime_base() == xdg
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/path")  # not absolute: not used
    assert runtime_base() != xdg and runtime_base().is_absolute()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    runtime = Runtime.create()
    try:
        assert runtime.folder.parent == xdg and runtime.folder.name.startswith("tradevc-serve-")
        assert runtime.folder.stat().st_mode & 0o777 == 0o700
        pid, started, namespace = (runtime.folder / "supervisor.pid").read_text().split()
        assert pid == str(os.getpid()) and namespace == os.readlink("/proc/self/ns/pid") and started.isdigit()
    finally:
        runtime.remove()
    assert not runtime.folder.exists()


def test_only_the_folders_of_supervisors_gone_are_removed(tmp_path):
    gone = leftover(tmp_path, "gone", f"{dead_pid()} 1")
    gone_old_format = leftover(tmp_path, "gone2", str(dead_pid()))
    alive = leftover(tmp_path, "alive", str(os.getpid()))
    no_pid_file = leftover(tmp_path, "starting", None)  # a supervisor making it right now, perhaps
    open_mode = leftover(tmp_path, "open", f"{dead_pid()} 1", mode=0o755)
    garbage = leftover(tmp_path, "garbage", "not a pid")
    other_name = tmp_path / "something-else"
    other_name.mkdir(mode=0o700)
    (other_name / "supervisor.pid").write_text(str(dead_pid()))
    link = tmp_path / "tradevc-serve-link"
    link.symlink_to(gone_old_format)
    removed = remove_leftovers(tmp_path)
    assert sorted(removed) == sorted([gone, gone_old_format])
    assert not gone.exists() and not gone_old_format.exists()
    for kept in (alive, no_pid_file, open_mode, garbage, other_name):
        assert kept.exists()
    assert link.is_symlink()


def test_a_folder_of_another_pid_namespace_is_kept(tmp_path):
    # another container sharing the folder: its pids are not ours to check
    other = leftover(tmp_path, "elsewhere", f"{dead_pid()} 1 pid:[1]")
    mine = leftover(tmp_path, "mine", f"{dead_pid()} 1 {os.readlink('/proc/self/ns/pid')}")
    assert remove_leftovers(tmp_path) == [mine] and other.exists()


def test_a_pid_reused_by_another_process_does_not_keep_a_leftover(tmp_path):
    # the pid file names this process, but with another start time: a supervisor that ended
    # and whose pid the system gave to someone else
    reused = leftover(tmp_path, "reused", f"{os.getpid()} 1")
    assert remove_leftovers(tmp_path) == [reused]
