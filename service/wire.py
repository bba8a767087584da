"""How answers reach the socket: one write per answer, not one per ASGI message.

uvicorn writes an answer's status line and headers when the application starts it and its
body when it sends it: two ``send`` system calls, two segments on the wire (the socket has
``TCP_NODELAY``) and two wake-ups of the client, for a verification's answer of a few
kilobytes. On loopback at the border's load that was a sixth of the server's time. Here the
writes one turn of the event loop makes to a connection are joined and written once at the end
of that turn; nothing waits longer than that, and closing the connection writes what is
pending first.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CoalescingTransport", "http_protocol"]


class CoalescingTransport:
    """An asyncio transport's stand-in whose :meth:`write` calls within one turn of the event
    loop reach the transport as one; everything else is the transport's own."""

    __slots__ = ("_transport", "_loop", "_pending")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._pending)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, pause_reading, set_protocol...
        return getattr(self._transport, name)


def http_protocol() -> Any:
    """uvicorn's HTTP protocol (httptools) writing through a :class:`CoalescingTransport`; the
    name ``"auto"`` (uvicorn's choice) where httptools is not installed."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools missing: uvicorn's own h11 protocol, writes as they come
        return "auto"

    class CoalescingHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    return CoalescingHttpToolsProtocol
