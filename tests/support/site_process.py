"""``vc-issuer serve-site`` as a real process, for tests: started on a port, its printed lines
read as they come, requests sent exactly as written, stopped by a signal."""

from __future__ import annotations

import http.client
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
"""The environment of the processes a test starts: this checkout's code is the one run."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Site:
    """A vc-issuer serve-site process; ``lines`` are its stdout lines so far."""

    def __init__(self, directory: Path, port: int, ca: Path, *extra: str) -> None:
        self.port, self.ca = port, ca
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tradevc.issuer", "serve-site", str(directory), "--port", str(port),
             "--ca-out", str(ca), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_for("  vc-verify ")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _wait_for(self, start: str) -> None:
        while True:
            try:
                line = self._queue.get(timeout=60)
            except queue.Empty:
                pytest.fail(f"serve-site printed no line starting {start!r}: {self.lines}")
            if line is None:
                pytest.fail(f"serve-site ended: {self.lines} {self.process.stderr.read() if self.process.stderr else ''}")
            self.lines.append(line)
            if line.startswith(start):
                return

    def url(self, path: str) -> str:
        return f"https://localhost:{self.port}/{path.lstrip('/')}"

    def raw(self, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
        """The answer to ``method target`` sent exactly as written (requests would tidy the path)."""
        context = ssl.create_default_context(cafile=str(self.ca))
        connection = http.client.HTTPSConnection("localhost", self.port, context=context, timeout=10)
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        rest = []
        while (line := self._queue.get(timeout=10)) is not None:
            rest.append(line)
        self.lines.extend(rest)
        stderr = self.process.stderr.read() if self.process.stderr else ""
        return self.process.returncode, "\n".join(self.lines), stderr
