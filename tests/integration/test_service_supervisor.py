"""The supervisor of ``tradevc-serve``'s workers (tradevc.service.workers): its ``Dispatcher``
and ``supervise``, with real sockets, forks and signals, and small workers of the tests' own
(the real workers are tested in test_service_workers.py).

- A connection that no worker can take (every worker's channel full) is not accepted: it
  waits in the kernel's backlog, and is handed over once a worker has room again.
- A stop signal that arrives while a worker is being forked stops that worker too.
- Nothing is handed to a worker once it has been told to stop: the supervisor stops
  dispatching first; a connection handed over just before the stop is served.

The supervisor runs in a process of its own (it forks and takes the stop signals); the
moments that matter are made to happen by a ``Dispatcher`` subclass that sends the stop
signal to its own process at that point, and the order of what the supervisor did is read
from its own record of its ``os.kill`` and ``socket.send_fds`` calls."""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from tradevc.service.workers import Dispatcher

SUPERVISOR = textwrap.dedent('''
    import json, os, signal, socket, sys
    from tradevc.service.workers import STOP_SIGNALS, Dispatcher, receive_connections, supervise

    mode, workers = sys.argv[1], int(sys.argv[2])
    events = []
    real_kill, real_send_fds = os.kill, socket.send_fds

    def kill(pid, signum):
        if pid != os.getpid():
            events.append(["kill", pid, int(signum)])
        real_kill(pid, signum)

    def send_fds(sock, buffers, fds, *rest):
        sent = real_send_fds(sock, buffers, fds, *rest)
        events.append(["hand"])
        return sent

    os.kill, socket.send_fds = kill, send_fds

    class Stopped(Dispatcher):
        """Sends SIGTERM to this process where the mode says: inside the fork of the second
        worker ("fork"), or when connections wait to be accepted ("accept")."""
        channels = 0
        accepts = 0

        def channel(self, slot):
            Stopped.channels += 1
            if mode == "fork" and Stopped.channels == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            return super().channel(slot)

        def accept(self):
            Stopped.accepts += 1
            if mode == "accept" and Stopped.accepts == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            return super().accept()

    def serve(connection):
        connection.setblocking(True)
        line = connection.makefile("rb").readline()
        connection.sendall(b"ok " + line)
        connection.close()

    def run_worker(channel):
        """Like the real workers: takes its connections until told to stop, then those its
        channel still holds (handed over before the stop), then ends."""
        while True:
            receive_connections(channel, serve)
            if signal.sigtimedwait(STOP_SIGNALS, 0.01) is not None:
                break
        receive_connections(channel, serve)
        return 0

    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    code = supervise(workers, run_worker, Stopped(listener, workers))
    print(json.dumps(events), flush=True)
    sys.exit(code)
''')


def start_supervisor(mode: str, workers: int) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, "-c", SUPERVISOR, mode, str(workers)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def finish(process: subprocess.Popen[str]) -> tuple[int, list[list[object]]]:
    """The supervisor's exit status and its record; it must end by itself within 20 s (else its
    process group is killed and the test fails)."""
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the supervisor did not stop: a worker was left running")
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    return process.returncode, json.loads(out.splitlines()[-1])


def test_a_stop_signal_during_a_fork_stops_that_worker_too():
    """SIGTERM while the second of three workers is forked: the supervisor still stops every
    worker it started (the one being forked included) and exits 0 with no second signal."""
    process, _ = start_supervisor("fork", 3)
    _, events = finish(process)
    killed = [pid for kind, *rest in events if kind == "kill" for pid in rest[:1]]
    assert len(killed) == len(set(killed)) == 2, events  # the third was never started
    assert all(signum == signal.SIGTERM for kind, *rest in events if kind == "kill" for signum in rest[1:]), events


def test_a_connection_handed_over_before_the_stop_is_served_and_none_after():
    """SIGTERM as the supervisor is about to accept a waiting connection: it hands that
    connection over before it signals any worker, never after, and the worker serves it."""
    process, port = start_supervisor("accept", 2)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
        client.sendall(b"hello\n")
        assert client.makefile("rb").readline() == b"ok hello\n"
    _, events = finish(process)
    kinds = [event[0] for event in events]
    assert kinds.count("kill") == 2 and "hand" in kinds, events
    assert "hand" not in kinds[kinds.index("kill"):], events


def test_a_connection_no_worker_can_take_waits_in_the_backlog():
    """With the only worker's channel full, the dispatcher stops watching the listening socket
    and accepts nothing: a new client's connection waits in the kernel's backlog (it is not
    closed). Once the worker has taken what its channel held, that connection is accepted and
    handed over, and it is the client's own."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    port = listener.getsockname()[1]
    dispatcher = Dispatcher(listener, 1)
    selector = selectors.DefaultSelector()
    worker_end = dispatcher.channel(0)
    worker_end.setblocking(False)
    dispatcher.attach(selector)
    clients: list[socket.socket] = []
    received: list[socket.socket] = []

    def take_all() -> None:
        while True:
            try:
                _, fds, _, _ = socket.recv_fds(worker_end, 16, 8)
            except BlockingIOError:
                return
            received.extend(socket.socket(fileno=fd) for fd in fds)

    try:
        for _ in range(2000):  # until the channel is full (a few dozen, as the kernel counts)
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            ready = selector.select(timeout=5)
            assert ready, "the dispatcher stopped watching before its channel was full"
            for key, _ in ready:
                assert key.data == "listen"
                dispatcher.accept()
            if not any(key.fileobj is listener for key in selector.get_map().values()):
                break
        else:
            pytest.fail("the channel never filled")
        handed = len(clients)
        waiting = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert selector.select(timeout=0.2) == []  # nothing to do: the worker has no room
        assert dispatcher.accept() == 0  # and if asked anyway, nothing is accepted
        waiting.setblocking(False)
        with pytest.raises(BlockingIOError):  # the waiting connection is open, not closed
            waiting.recv(1)
        waiting.setblocking(True)
        take_all()
        assert len(received) == handed
        ready = selector.select(timeout=5)  # room again: the listening socket is watched
        assert ready
        for key, _ in ready:
            dispatcher.accept()
        take_all()
        assert len(received) == handed + 1
        waiting.sendall(b"mine")
        assert select.select([received[-1]], [], [], 5)[0]
        assert received[-1].recv(4) == b"mine"
        waiting.close()
    finally:
        for connection in clients + received:
            connection.close()
        dispatcher.close()
        selector.close()
        worker_end.close()
