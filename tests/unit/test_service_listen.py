"""The socket tradevc-serve listens on: the connections it accepts have Nagle's algorithm off.

asyncio turns Nagle's algorithm off (TCP_NODELAY) only on a socket whose protocol is TCP. An
answer is written in two parts (the head, then the body); with Nagle on, the body waits for the
client to acknowledge the head, which a client on a keep-alive connection delays (about 40 ms
on Linux): every request after a connection's first took that long, whatever the work."""

from __future__ import annotations

import asyncio
import socket

from tradevc.service.cli import _listen
from tradevc.service.config import ServiceConfig


def accepted_nodelay(sock: socket.socket) -> int:
    """TCP_NODELAY of a connection accepted by an asyncio server on ``sock`` (as uvicorn's is)."""

    async def main() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted = writer.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        try:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(seen, 30)
            writer.close()
            return value
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def test_accepted_connections_have_nagle_off():
    sock = _listen(ServiceConfig(host="127.0.0.1", port=0))
    assert sock.proto == socket.IPPROTO_TCP
    assert accepted_nodelay(sock) != 0


def test_a_plain_stream_socket_would_keep_nagle_on():
    """The control: what the listening socket was before (protocol 0, the default)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    assert accepted_nodelay(sock) == 0
