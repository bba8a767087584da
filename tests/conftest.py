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


def write_context_folder(
    directory: Path, contexts: dict[str, Any] | None = None, inline: list[Any] | None = None
) -> Path:
    """A folder of user-pinned contexts: each context document of ``contexts`` (URL -> parsed
    document) in a file, the SHA-256 (JCS) of each of ``inline``, and the index of both."""
    import hashlib

    from tradevc.vc.jsonld import inline_context_sha256

    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for number, (url, document) in enumerate((contexts or {}).items(), 1):
        data = json.dumps(document, indent=2).encode("utf-8")
        (directory / f"context-{number}.jsonld").write_bytes(data)
        entries.append({"url": url, "file": f"context-{number}.jsonld", "sha256": hashlib.sha256(data).hexdigest()})
    pins = [{"sha256": inline_context_sha256(c), "note": "pinned by a test"} for c in inline or []]
    (directory / "index.json").write_text(json.dumps({"contexts": entries, "inline": pins}, indent=2), encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def reference_credential() -> dict[str, Any]:
    """The reference USMCA certification of origin used by the benchmark."""
    return json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text(encoding="utf-8"))


class StaticDidResolver:
    """A DID resolver for one did:example DID whose document is built from a key, listing the
    key under the given relationships: a real resolver for DID documents did:key cannot express."""

    def __init__(self, did: str, key: Any, relationships: list[str]) -> None:
        vm_id = f"{did}#key-1"
        self.document = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "verificationMethod": [
                {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": key.public_key_multibase}
            ],
            **{rel: [vm_id] for rel in relationships},
        }

    def resolve(self, did: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.document))


@pytest.fixture(scope="session")
def _https_server(tmp_path_factory: Any) -> Any:
    from support.https_server import start

    server, stop = start(tmp_path_factory.mktemp("https"))
    yield server
    stop()


@pytest.fixture
def https_server(_https_server: Any) -> Any:
    """A real HTTPS server on 127.0.0.1 (throwaway CA), emptied for each test: put files
    under ``https_server.root``; ``https_server.session()`` trusts its CA."""
    _https_server.reset()
    return _https_server


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


_OLD_ROOTS = ("vc", "issuer", "verifier", "wallet", "contexts")


@pytest.fixture(autouse=True, scope="session")
def _one_import_root():
    """The repository's folders run from the checkout would also import as top-level ``vc``,
    ``wallet``...; a second copy of a module breaks ``isinstance`` and hides wrong imports.
    Fail the run if anything imported the packages under a name other than ``tradevc.*``."""
    import sys

    yield
    strays = sorted(name for name in sys.modules if name.split(".")[0] in _OLD_ROOTS)
    assert not strays, f"imported outside the tradevc import root: {strays[:10]}"
