"""clistyle.read_all: what f.read gives, for regular files and pipes, with a limit or without."""

from __future__ import annotations

import os
import threading

from tradevc.clistyle import read_all


def _pipe_with(data: bytes, pieces: int = 3) -> int:
    reader, writer = os.pipe()

    def write() -> None:
        step = max(1, len(data) // pieces)
        try:
            for start in range(0, len(data), step):
                os.write(writer, data[start:start + step])
        except BrokenPipeError:  # read to a limit: the rest is not wanted
            pass
        finally:
            os.close(writer)

    threading.Thread(target=write, daemon=True).start()
    return reader


def test_a_pipe_is_read_to_its_end_or_to_the_limit() -> None:
    data = os.urandom(300_000)  # several pipe buffers, written in pieces
    with os.fdopen(_pipe_with(data), "rb") as f:
        assert read_all(f) == data
    with os.fdopen(_pipe_with(data), "rb") as f:
        assert read_all(f, 100_001) == data[:100_001]
    with os.fdopen(_pipe_with(b""), "rb") as f:
        assert read_all(f) == b""


def test_a_regular_file_is_read_as_file_read_reads_it(tmp_path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b'{"a": 1}' * 1000)
    with open(path, "rb") as f:
        assert read_all(f, 10) == b'{"a": 1}{"'
    with open(path, "rb") as f:
        assert read_all(f) == path.read_bytes()


def test_off_the_main_thread_it_reads_as_usual() -> None:
    data = b"x" * 70_000
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(read_all(os.fdopen(_pipe_with(data), "rb"))))
    reader.start()
    reader.join(10)
    assert out == [data]


def test_an_input_without_a_descriptor_is_read_as_usual() -> None:
    import io
    assert read_all(io.BytesIO(b"abc"), 2) == b"ab" and read_all(io.BytesIO(b"abc")) == b"abc"
