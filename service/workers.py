"""Several worker processes on one listening socket: a pre-forking supervisor.

With ``[listen] workers = N`` (or ``--workers N``) above 1, the ``tradevc-serve`` process
reads the configuration, opens the issuers (their key passphrases stretched once), builds the
verifier and the token service, binds the listening socket and then forks N workers, each
running a uvicorn server of its own; the parent accepts the connections and hands them to the
workers in turn (:class:`Dispatcher`). It was written here rather than taken from uvicorn's supervisor
(``uvicorn.run(workers=N)``), which *spawns* fresh interpreters from an import string: each
would read the configuration and stretch every passphrase again, and a token key made at start
would have to reach them through a file or the command line. Forked workers inherit it in
memory, with everything else opened before the fork (no thread has run yet at that point, as
:mod:`tradevc.issuer.registry` requires; SQLite connections are opened anew in each worker, which closes its copies of the parent's unused).

What all workers must agree on is shared through the private runtime folder (:class:`Runtime`,
made ``0700`` by the parent in ``$RUNTIME_DIRECTORY``, ``$XDG_RUNTIME_DIR`` or the temporary
folder, and removed when it stops; one left by a parent that was killed is removed by the next
start): the rate limits' buckets, the one-time
challenges when ``[verifier] challenges`` names no file, and the metrics' files. The issuers'
registries are shared already (their SQLite files); see :mod:`.desks` for how each worker keeps
its copy of the issuers' website current.

The parent serves nothing: it hands out connections and watches. A worker that ends (a crash,
a kill) is logged and replaced (after a pause of :data:`RESTART_PAUSE` if it lived less than
that); meanwhile the others take its share. SIGTERM or SIGINT to the parent closes the listening
socket first, then stops the workers gracefully (SIGTERM to each: it serves the connections it
was handed, takes no new one, finishes the requests in flight, and ends); the parent exits 0
once all have ended.
A second signal kills the workers at once. A worker whose parent is gone stops by itself.
"""

from __future__ import annotations

import logging
import os
import select
import selectors
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Callable

from .limits import SharedBuckets

__all__ = [
    "PID_FILE", "RESTART_PAUSE", "STOP_SIGNALS", "Dispatcher", "Runtime", "receive_connections", "remove_leftovers",
    "runtime_base", "supervise",
]

log = logging.getLogger("tradevc.service")
STOP_SIGNALS = frozenset((signal.SIGINT, signal.SIGTERM))
RESTART_PAUSE = 1.0
"""A worker that ended sooner than this after it started is replaced only after this pause
(seconds), so that one failing at start does not make the parent fork without rest."""


PID_FILE = "supervisor.pid"
"""In each runtime folder: the supervisor's pid, start time and pid namespace, so a later start
can tell a folder whose supervisor is gone (killed, the machine reset) from one still in use."""
_PREFIX = "tradevc-serve-"


def runtime_base() -> Path:
    """Where runtime folders are made: ``$RUNTIME_DIRECTORY`` (systemd's ``RuntimeDirectory=``;
    the first of several), else ``$XDG_RUNTIME_DIR``, else the system's temporary folder. A
    value that is not an absolute path to a folder is passed over."""
    for name in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        value = os.environ.get(name, "").split(":")[0]
        if value and os.path.isabs(value) and os.path.isdir(value):
            return Path(value)
    return Path(tempfile.gettempdir())


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``), or None if unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 else None


def _pid_namespace() -> str:
    """This process's pid namespace (``pid:[...]``), or "" if unknown: a pid means something
    only in its namespace (another container sharing the folder has pids of its own)."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    now = _start_time(pid)
    return started is None or now is None or now == started  # else the pid was given to another process


def remove_leftovers(base: Path) -> list[Path]:
    """Remove the runtime folders in ``base`` that supervisors no longer alive left behind (a
    SIGKILL, a crash): only folders named ``tradevc-serve-*``, not symbolic links, owned by
    this user with mode ``0700``, whose pid file names a process that is gone (or a pid since
    given to another process) in this pid namespace. A folder without a readable pid file is
    kept (it may be one being made this moment), as is one of another pid namespace. The
    folders removed."""
    removed = []
    for folder in sorted(base.glob(_PREFIX + "*")):
        try:
            info = folder.lstat()
            if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
                    or stat.S_IMODE(info.st_mode) != 0o700):
                continue
            words = (folder / PID_FILE).read_text(encoding="ascii").split()
            pid = int(words[0])
        except (OSError, ValueError, IndexError, UnicodeDecodeError):
            continue
        if len(words) > 2 and words[2] != _pid_namespace():
            continue  # a supervisor of another pid namespace: its pid cannot be checked from here
        started = words[1] if len(words) > 1 and words[1] != "-" else None
        if pid <= 0 or _alive(pid, started):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


@dataclass(frozen=True)
class Runtime:
    """The private folder the workers of one start share (``0700``, in :func:`runtime_base`;
    nothing in it outlives the service): ``supervisor.pid`` (see :data:`PID_FILE`),
    ``limits.sqlite`` (rate limit buckets), ``challenges.sqlite`` (one-time challenges, unless
    the configuration names a file), ``metrics/`` (prometheus-client's multiprocess files), and
    ``records.sqlite`` (the received presentation ids and entry reports, when no database is
    configured). Leftovers of supervisors that did not stop cleanly are removed first
    (:func:`remove_leftovers`)."""

    folder: Path
    buckets: SharedBuckets
    challenges: Path
    metrics: Path

    @classmethod
    def create(cls) -> "Runtime":
        base = runtime_base()
        for gone in remove_leftovers(base):
            log.info("removed %s, left by a server that is no longer running", gone)
        folder = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=base))  # 0700, made for this process alone
        try:
            pid = os.getpid()
            (folder / PID_FILE).write_text(f"{pid} {_start_time(pid) or '-'} {_pid_namespace()}".strip() + "\n",
                                           encoding="ascii")
            metrics = folder / "metrics"
            metrics.mkdir(mode=0o700)
            return cls(folder, SharedBuckets.create(folder / "limits.sqlite"), folder / "challenges.sqlite", metrics)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _ended(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class Dispatcher:
    """The supervisor's half of handing out connections: it accepts on the listening socket and
    gives each connection to the next worker in turn, over a Unix socket pair per worker (the
    connection's descriptor passed with ``SCM_RIGHTS``), so that the workers hold as many
    connections each, give or take one.

    Left to the kernel (every worker accepting on the shared socket), connections went to
    whichever worker woke first, and it took every connection waiting: four keep-alive
    clients opened at once often all landed on one worker while the other idled, halving the
    throughput for as long as they stayed connected. A worker that cannot take a connection
    (it ended, or its channel is full) is passed over for the next.

    A connection is accepted only when a worker has room for it (its channel is writable):
    while none has (all channels full, or every worker being replaced), the dispatcher watches
    the channels instead of the listening socket (see :meth:`attach`), and the clients wait in
    the kernel's backlog. Should every worker fail to take one accepted all the same (one
    ended that moment), it is held, not closed, until one can."""

    def __init__(self, sock: socket.socket, workers: int) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self.workers = workers
        self._ends: dict[int, socket.socket] = {}  # slot -> the supervisor's end of its pair
        self._turn = 0
        self._poll = select.poll()  # the ends, asked at once whether they have room
        self._held: socket.socket | None = None  # accepted, no worker could take it yet
        self._room = True  # as last seen: some worker's channel has room
        self._selector: selectors.BaseSelector | None = None
        self._watched: dict[int, tuple[socket.socket, int]] = {}  # what the selector watches: fd -> (socket, events)
        self.listening = True
        """False once :meth:`stop_listening` closed the listening socket."""

    def attach(self, selector: selectors.BaseSelector) -> None:
        """Keep in ``selector`` what is worth watching (with the data ``"listen"``: call
        :meth:`accept` when it is ready): the listening socket while a worker has room, else
        the workers' channels, for when one has room again."""
        self._selector = selector
        self._sync()

    def _sync(self) -> None:
        if self._selector is None:
            return
        wanted: dict[int, tuple[socket.socket, int]] = {}
        if self.listening and self._held is None and self._room and self._ends:
            wanted[self.sock.fileno()] = (self.sock, selectors.EVENT_READ)
        elif self.listening:
            for end in self._ends.values():
                wanted[end.fileno()] = (end, selectors.EVENT_WRITE)
        for fd in [fd for fd in self._watched if wanted.get(fd) != self._watched[fd]]:
            self._selector.unregister(self._watched.pop(fd)[0])
        for fd, (sock, events) in wanted.items():
            if fd not in self._watched:
                self._selector.register(sock, events, "listen")
                self._watched[fd] = (sock, events)

    def channel(self, slot: int) -> socket.socket:
        """A new pair for the worker about to be forked for ``slot``: the supervisor keeps one
        end, the worker gets the other (see :meth:`in_worker`)."""
        self.drop(slot)
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mine.setblocking(False)
        self._ends[slot] = mine
        self._poll.register(mine, select.POLLOUT)
        self._room = True  # an empty channel
        self._sync()
        return theirs

    def in_worker(self, channel: socket.socket) -> None:
        """In a forked worker: close what is the supervisor's (the listening socket, the other
        ends, a connection held), so that the port closes when the supervisor closes it."""
        self.sock.close()
        for end in self._ends.values():
            end.close()
        self._ends.clear()
        if self._held is not None:
            self._held.close()
            self._held = None
        self._selector = None
        self._watched.clear()
        channel.setblocking(False)

    def drop(self, slot: int) -> None:
        end = self._ends.pop(slot, None)
        if end is not None:
            self._poll.unregister(end)
            self._sync()  # no longer watched, before it is closed
            end.close()

    def _with_room(self) -> set[int]:
        """The slots whose channel has room now."""
        ready = {fd for fd, events in self._poll.poll(0) if events & select.POLLOUT}
        return {slot for slot, end in self._ends.items() if end.fileno() in ready}

    def accept(self) -> int:
        """Hand out the connection held, if any, then accept and hand out every connection
        waiting, one at a time while a worker has room; how many were handed out."""
        count = 0
        while self.listening:
            room = self._with_room()
            self._room = bool(room)
            if not room:
                break
            if self._held is None:
                try:
                    self._held, _ = self.sock.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:  # e.g. EMFILE: the connection waits in the backlog; try later
                    log.warning("cannot accept a connection: %s", e.strerror or e)
                    break
            if not self._hand(self._held, room):
                break
            self._held.close()
            self._held = None
            count += 1
        self._sync()
        return count

    def _hand(self, connection: socket.socket, room: set[int]) -> bool:
        slots = sorted(self._ends)
        for attempt in range(len(slots)):
            slot = slots[(self._turn + attempt) % len(slots)]
            if slot not in room:
                continue
            try:
                socket.send_fds(self._ends[slot], [b"c"], [connection.fileno()])
            except OSError:  # the worker ended (its end is closed), or its channel filled: the next one
                continue
            self._turn = (self._turn + attempt + 1) % max(len(slots), 1)
            return True
        return False

    def stop_listening(self) -> None:
        """Close the listening socket (the port closes; connections in its backlog are
        refused), after a last try at handing over a connection held (else it is closed)."""
        if not self.listening:
            return
        if self._held is not None:
            if not self._hand(self._held, self._with_room()):
                log.warning("a connection no worker could take is closed at the stop")
            self._held.close()
            self._held = None
        self.listening = False
        self._sync()
        self.sock.close()

    def close(self) -> None:
        self.stop_listening()
        for slot in list(self._ends):
            self.drop(slot)
        self._selector = None


def receive_connections(channel: socket.socket, take: Callable[[socket.socket], None]) -> bool:
    """In a worker: ``take`` each connection waiting on ``channel`` (a connected socket, in
    non-blocking mode). False when the supervisor's end is closed (nothing more will come)."""
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(channel, 16, 8)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if not message and not fds:
            return False
        for fd in fds:
            connection = socket.socket(fileno=fd)
            connection.setblocking(False)
            if connection.family in (socket.AF_INET, socket.AF_INET6):
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            take(connection)


def supervise(workers: int, run_worker: Callable[[socket.socket], int], dispatcher: Dispatcher) -> int:
    """Fork ``workers`` processes that each return ``run_worker(channel)`` as their exit status
    (``channel``: the socket their connections come on, see :class:`Dispatcher`), hand them the
    connections ``dispatcher`` accepts, and keep that many running until SIGTERM or SIGINT (see
    the module). The exit status: 0.

    The signal handler only notes the signal and wakes the loop; the loop then stops
    dispatching (the listening socket is closed) before it tells any worker to stop, so that no
    connection is handed to a worker already stopping, and tells every worker it has, a
    worker forked meanwhile too (each fork is followed by that check).

    A worker starts with SIGINT and SIGTERM blocked, and the handlers of this process: it must
    install its own and then unblock them (a signal sent meanwhile waits, it is not lost)."""
    children: dict[int, tuple[int, float, int]] = {}  # pid -> its slot, when it started (monotonic), its pidfd
    told: dict[int, int] = {}  # pid -> the stop signals it was sent for (1: SIGTERM, 2: SIGKILL)
    restarts: list[tuple[float, int]] = []  # (when, slot)
    signals = [0]
    selector = selectors.DefaultSelector()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        signals[0] += 1  # acted on by the loop (stop_if_asked), never here: a fork may be under way
        try:
            os.write(wake_write, b"!")
        except OSError:
            pass

    def stop_if_asked() -> None:
        """After a stop signal: stop dispatching, then send SIGTERM to every worker not yet sent
        it (SIGKILL after a second signal)."""
        level = min(signals[0], 2)
        if not level:
            return
        restarts.clear()
        if dispatcher.listening:  # no new connection: the port closes, the workers finish theirs
            dispatcher.stop_listening()
            log.info("stopping %d worker(s): the requests in flight are finished first", len(children))
        for pid in children:
            if told.get(pid, 0) < level:
                told[pid] = level
                try:
                    os.kill(pid, signal.SIGTERM if level == 1 else signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def start(slot: int) -> None:
        channel = dispatcher.channel(slot)
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the caller (its clean-up is the parent's)
                code = 1
                try:
                    selector.close()
                    for fd in (wake_read, wake_write, *(pidfd for _, _, pidfd in children.values())):
                        os.close(fd)
                    dispatcher.in_worker(channel)
                    code = run_worker(channel)
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else 1
                except BaseException:
                    log.exception("worker %d failed", os.getpid())
                finally:
                    for stream in (sys.stdout, sys.stderr):
                        try:
                            stream.flush()
                        except (OSError, ValueError):
                            pass
                    os._exit(code)
            pidfd = os.pidfd_open(pid)
            children[pid] = (slot, time.monotonic(), pidfd)
            selector.register(pidfd, selectors.EVENT_READ, pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            channel.close()  # the worker's end
        stop_if_asked()  # a signal that came while it was forked: it is told too

    def reap(pid: int) -> None:
        slot, started, pidfd = children.pop(pid)
        told.pop(pid, None)
        selector.unregister(pidfd)
        os.close(pidfd)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 0
        dispatcher.drop(slot)
        if signals[0]:
            if os.waitstatus_to_exitcode(status) != 0:
                log.warning("worker %d stopped with %s", pid, _ended(status))
            return
        log.error("worker %d ended (%s); starting another", pid, _ended(status))
        pause = RESTART_PAUSE if time.monotonic() - started < RESTART_PAUSE else 0.0
        restarts.append((time.monotonic() + pause, slot))  # meanwhile the others take its connections

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        selector.register(wake_read, selectors.EVENT_READ, "wake")
        dispatcher.attach(selector)
        for slot in range(workers):
            if signals[0]:
                break
            start(slot)
        log.info("%d workers started: %s", len(children), " ".join(str(pid) for pid in children))
        while children or (restarts and not signals[0]):
            timeout = max(0.0, min(when for when, _ in restarts) - time.monotonic()) if restarts else None
            ready = selector.select(timeout)
            stop_if_asked()  # before anything is accepted
            for key, _ in ready:
                if key.data == "listen":
                    dispatcher.accept()  # nothing once it stopped listening
                elif key.data == "wake":
                    while True:
                        try:
                            if not os.read(wake_read, 64):
                                break
                        except (BlockingIOError, InterruptedError):
                            break
                elif isinstance(key.data, int) and key.data in children:
                    reap(key.data)
            stop_if_asked()
            now = time.monotonic()
            for when, slot in [r for r in restarts if r[0] <= now]:
                if signals[0]:
                    break
                restarts.remove((when, slot))
                start(slot)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        dispatcher.close()
        selector.close()
        os.close(wake_read)
        os.close(wake_write)
    return 0
