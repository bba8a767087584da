"""Shared test helpers: vector loading and a few ready-made credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).parent / "vectors"
ROOT = Path(__file__).parent.parent


def load_vector(relative: str) -> Any:
    """Parse a JSON vector file under tests/vectors/."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def read_vector(relative: str) -> str:
    """Read a text vector file under tests/vectors/, exactly as stored."""
    return (VECTORS / relative).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def reference_credential() -> dict[str, Any]:
    """The reference USMCA certification of origin used by the benchmark."""
    return json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text(encoding="utf-8"))


# -- no network but loopback -------------------------------------------------------------------

import ipaddress  # noqa: E402
import socket  # noqa: E402

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _refuse_non_loopback(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _refuse_non_loopback(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _refuse_non_loopback(address)
    return _real_connect_ex(self, address)


def pytest_configure(config: Any) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
