"""Shared test helpers: vector loading and a few ready-made credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

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
    config.addinivalue_line("markers", "strong_kdf: seal files at the real scrypt cost (no test shortcut)")
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


# -- the verifier's cache on disk -------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _verifier_cache_in_a_temporary_directory(tmp_path_factory: Any) -> Any:
    """``vc-verify`` keeps a cache on disk (default ``~/.cache/tradevc/verifier``): the CLI
    tests, and the processes they start with this environment, keep it in a temporary
    directory instead of the home of whoever runs the tests."""
    old = os.environ.get("TRADEVC_CACHE_DIR")
    os.environ["TRADEVC_CACHE_DIR"] = str(tmp_path_factory.mktemp("verifier-cache") / "cache")
    yield
    if old is None:
        os.environ.pop("TRADEVC_CACHE_DIR", None)
    else:
        os.environ["TRADEVC_CACHE_DIR"] = old


# -- the cost of sealing secrets ----------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _cheap_kdf() -> Any:
    """Files sealed in this process (wallets, issuer keys), by tests and by module- or
    session-scoped fixtures alike, use scrypt n=2**14 (about 20 ms) instead of n=2**17 (about
    0.35 s), through tradevc.vc.sealed.unsafe_test_kdf, which only Python code can call. Other
    processes a test starts use the real cost."""
    import logging

    from tradevc.vc.sealed import unsafe_test_kdf

    logging.getLogger("tradevc.vc.sealed").disabled = True  # its warning is noise here
    with unsafe_test_kdf():
        yield


@pytest.fixture(autouse=True)
def _strong_kdf_when_marked(request: Any) -> Any:
    """A test marked ``strong_kdf`` gets the real cost (n=2**17)."""
    if not request.node.get_closest_marker("strong_kdf"):
        yield
        return
    from tradevc.vc.sealed import STRONG, unsafe_test_kdf

    with unsafe_test_kdf(STRONG):
        yield


# -- hypothesis profiles -----------------------------------------------------------------------
#
# ``make test`` runs the "default" profile: derandomized (each test draws the same examples on
# every run, chosen from a hash of the test), no example database and no deadline, so a green
# run does not depend on luck, nor on what an earlier run left in .hypothesis/, nor on how busy
# the machine is. ``make fuzz`` runs the "fuzz" profile (HYPOTHESIS_PROFILE=fuzz): random
# seeds, the database kept (a failure found is replayed next time), and every property test
# draws FUZZ_FACTOR times the examples its own @settings asks for. A failure found there is
# pinned with @example so that ``make test`` keeps checking it.

HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
FUZZ_FACTOR = int(os.environ.get("HYPOTHESIS_FUZZ_FACTOR", "10"))

settings.register_profile("default", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    "fuzz", derandomize=False, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow],
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "examples")),
)
settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Under the fuzz profile, scale each hypothesis test's own max_examples by FUZZ_FACTOR.

    A test's explicit @settings(max_examples=...) wins over any profile, so the profile alone
    would not lengthen it. @settings keeps its settings in the attribute replaced here, which
    @given reads when the test runs; the test's other settings are kept (they inherit the
    profile's randomness and database: conftest loads it before the test modules import)."""
    if HYPOTHESIS_PROFILE != "fuzz":
        return
    scaled: set[int] = set()
    for item in items:
        function = getattr(item, "obj", None)
        own = getattr(function, "_hypothesis_internal_use_settings", None)
        if own is None or not getattr(function, "is_hypothesis_test", False) or id(function) in scaled:
            continue  # a parametrized test is one function for all its items: scaled once
        scaled.add(id(function))
        function._hypothesis_internal_use_settings = settings(own, max_examples=own.max_examples * FUZZ_FACTOR)


# -- a throwaway PostgreSQL cluster (the ledger's tests) -----------------------------------------


@pytest.fixture(scope="session")
def postgres_cluster() -> Any:
    """A PostgreSQL server started for this run on 127.0.0.1 (see support/postgres.py), stopped
    and removed at the end. If it cannot be started the tests that need it FAIL, with the reason:
    CI is meant to run them (`make test` installs Debian's postgresql package when missing)."""
    from support.postgres import ClusterUnavailable, start

    try:
        cluster, stop = start()
    except ClusterUnavailable as e:
        pytest.fail(f"the PostgreSQL ledger tests need a throwaway PostgreSQL cluster, which could not be "
                    f"started: {e}", pytrace=False)
    yield cluster
    stop()
