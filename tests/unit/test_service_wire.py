"""One write per answer (tradevc.service.wire): what one turn of the event loop writes to a
connection reaches the socket at once, at the end of that turn; closing writes what is pending
first; aborting drops it. Over a real socket pair, whose far end counts what arrives."""

from __future__ import annotations

import asyncio
import socket

from tradevc.service.wire import CoalescingTransport, http_protocol


class Counting(asyncio.Transport):
    """Passes writes to a real transport and counts them."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self.transport, self.writes = transport, []

    def write(self, data) -> None:  # type: ignore[no-untyped-def]
        self.writes.append(bytes(data))
        self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.transport.close()

    def abort(self) -> None:
        self.transport.abort()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size()

    def get_extra_info(self, name, default=None):  # type: ignore[no-untyped-def]
        return self.transport.get_extra_info(name, default)


def test_writes_of_one_turn_reach_the_socket_as_one_and_close_flushes():
    async def run() -> tuple[list[bytes], bytes, list[bytes]]:
        loop = asyncio.get_running_loop()
        near, far = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, near)
        counting = Counting(transport)
        wire = CoalescingTransport(counting, loop)
        wire.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        wire.write(memoryview(b"hello"))
        assert counting.writes == [] and wire.get_write_buffer_size() == 43
        await asyncio.sleep(0)  # the end of the turn
        first = list(counting.writes)
        wire.write(b"bye")
        wire.close()  # written before the connection closes
        assert wire.is_closing()
        await asyncio.sleep(0.05)
        far.setblocking(True)
        received = b""
        while chunk := far.recv(4096):
            received += chunk
        far.close()
        # an aborted connection drops what is pending
        near2, far2 = socket.socketpair()
        transport2, _ = await loop.connect_accepted_socket(asyncio.Protocol, near2)
        counting2 = Counting(transport2)
        wire2 = CoalescingTransport(counting2, loop)
        wire2.write(b"dropped")
        wire2.abort()
        await asyncio.sleep(0.01)
        far2.close()
        return first, received, counting2.writes

    first, received, aborted = asyncio.run(run())
    assert first == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
    assert received == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhellobye"
    assert aborted == []


def test_the_server_writes_through_it():
    protocol = http_protocol()
    assert protocol != "auto", "httptools is a dependency of the service"
    assert protocol.connection_made.__qualname__.startswith("http_protocol.<locals>.")
