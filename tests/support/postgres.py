"""A throwaway PostgreSQL cluster on loopback, for the ledger's tests and its benchmark.

:func:`start` finds Debian's server binaries (``/usr/lib/postgresql/<version>/bin``, or
``initdb`` on the PATH), makes a cluster in a new temporary folder (``initdb``, trust
authentication), starts it listening on 127.0.0.1 only, on a free port, with its unix socket
in that folder, and creates a database. PostgreSQL refuses to run as root: as root, the folder
is given to the ``postgres`` system user (the Debian package makes it) and the binaries run as
that user through ``runuser``. ``stop()`` stops the server and removes the folder.

:class:`ClusterUnavailable` says what is missing; the tests fail with it (they do not skip):
``make test`` installs Debian's ``postgresql`` package when the binaries are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class ClusterUnavailable(RuntimeError):
    """No throwaway PostgreSQL cluster could be started; the message says why and what to do."""


@dataclass(frozen=True)
class Cluster:
    url: str
    """``postgresql://postgres@127.0.0.1:<port>/<database>``"""
    folder: Path
    port: int


def find_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: the newest Debian version, else the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: _version(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise ClusterUnavailable(
        "PostgreSQL's server binaries (initdb, pg_ctl) are not installed, so the ledger's PostgreSQL tests "
        "cannot run: install Debian's postgresql package (`make test` does: apt-get install postgresql)")


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs a binary as a user PostgreSQL accepts, and its uid and gid
    (None: this process's user, when it is not root)."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable(
            "the tests run as root, which PostgreSQL refuses, and there is no `postgres` system user to run it "
            "as: install Debian's postgresql package, which makes that user") from None
    runuser = shutil.which("runuser") or shutil.which("setpriv")
    if runuser is None:
        raise ClusterUnavailable("the tests run as root and neither runuser nor setpriv is there to start "
                                 "PostgreSQL as the postgres user")
    if runuser.endswith("runuser"):
        return [runuser, "-u", "postgres", "--"], user.pw_uid, user.pw_gid
    return [runuser, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"], user.pw_uid, user.pw_gid


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ClusterUnavailable(f"could not {what}: {e}") from None
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
        raise ClusterUnavailable(f"could not {what} (exit {done.returncode}):\n{done.stdout}{done.stderr}{tail}")


def start(*, database: str = "ledger", fsync: bool = False) -> tuple[Cluster, Callable[[], None]]:
    """Start a throwaway cluster; returns it and the function that stops and removes it.
    ``fsync=False`` (tests) trades durability for speed; the benchmark keeps it on.

    :raises ClusterUnavailable: the binaries are missing or the server would not start.
    """
    binaries = find_binaries()
    prefix, uid, gid = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="tradevc-pg-"))
    data, log = folder / "data", folder / "server.log"
    if uid is not None and gid is not None:
        os.chown(folder, uid, gid)
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60, cwd="/")
        shutil.rmtree(folder, ignore_errors=True)

    try:
        _run([*prefix, str(binaries / "initdb"), "-D", str(data), "--auth=trust", "--username=postgres",
              "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"], "make a PostgreSQL cluster (initdb)")
        for attempt in range(3):
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
                       f"-c fsync={'on' if fsync else 'off'} -c max_connections=50 -c shared_buffers=32MB")
            try:
                _run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
                      "-t", "60", "start"], "start the PostgreSQL server (pg_ctl start)", log)
                break
            except ClusterUnavailable:
                if attempt == 2:
                    raise
                time.sleep(0.5)  # the port was taken in between: another one
        _run([*prefix, str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database],
             "create the test database (createdb)", log)
    except BaseException:
        stop()
        raise
    return Cluster(f"postgresql://postgres@127.0.0.1:{port}/{database}", folder, port), stop


_databases = iter(range(1, 1_000_000))


def fresh_database(cluster: Cluster, prefix: str = "db") -> str:
    """The URL of a new, empty database on ``cluster`` (named ``<prefix>_<pid>_<n>``)."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # noqa: S608  (a name made here)
    return cluster.url.rsplit("/", 1)[0] + "/" + name
