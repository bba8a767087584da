"""What the benchmark scripts share: the floor every ratio divides by, timing, the reference
credential, and a did:web issuer of the trade credential types served by the local HTTPS
server of the tests (throwaway CA, loopback only).

The scripts run as ``python bench/NAME.py`` (``make bench``), so this module is found next to
them; it puts ``tests/`` on the path for ``support.https_server``.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from tradevc.vc.keys import KeyPair  # noqa: E402

REFERENCE = HERE / "usmca-certification-of-origin.json"
"""The reference credential of issue 8: a USMCA certification of origin, two goods items."""

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
"""The verification time of the offline rows (inside the reference credential's validity)."""

TRADE_TYPES = {
    "MillTestReportCredential": False, "USMCACertificationOfOrigin": True,
    "SIMASteelImportLicenseCredential": True, "CommercialInvoiceCredential": False,
}
"""The four trade credential types, and whether each must carry validUntil."""

_FLOOR_MESSAGE = bytes(64)
_FLOOR_KEY = Ed25519PrivateKey.generate()
_FLOOR_SIGNATURE = _FLOOR_KEY.sign(_FLOOR_MESSAGE)
_FLOOR_PUBLIC = _FLOOR_KEY.public_key()


def floor() -> None:
    """The baseline of every "x floor" ratio: one Ed25519 signature check by ``cryptography``
    (64-byte message)."""
    _FLOOR_PUBLIC.verify(_FLOOR_SIGNATURE, _FLOOR_MESSAGE)


def mean_seconds(fn: Callable[[], object], batch: int) -> float:
    """Seconds per call over ``batch`` calls, with the garbage collector paused while timing
    (as ``timeit`` does) and run before, so one row's garbage is not collected in another's."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        return (time.perf_counter() - start) / batch
    finally:
        gc.enable()


def samples(fn: Callable[[], object], batch: int, runs: int) -> list[float]:
    """``runs`` samples of the mean seconds per call over ``batch`` calls, after a warm-up call."""
    fn()
    return [mean_seconds(fn, batch) for _ in range(runs)]


def spread(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def reference_credential(key: KeyPair, *, goods: int = 2, keep_status: bool = False) -> dict[str, Any]:
    """The reference credential issued by ``key``'s did:key, with ``goods`` goods items (the
    two of the file, repeated as numbered lots). Without ``keep_status`` the credentialStatus
    entry is removed, so an offline verification runs every check to a verified report."""
    credential = json.loads(REFERENCE.read_text(encoding="utf-8"))
    credential["issuer"]["id"] = key.did
    if not keep_status:
        del credential["credentialStatus"]
    items = credential["credentialSubject"]["goods"]
    if goods != len(items):
        credential["credentialSubject"]["goods"] = [
            {**copy.deepcopy(items[i % 2]), "description": f"{items[i % 2]['description']}, lot {i}"}
            for i in range(goods)
        ]
    return credential


@dataclass
class TradeIssuer:
    """A did:web issuer whose DID document and status lists a local HTTPS server publishes."""

    server: Any  # support.https_server.LocalHttpsServer
    issuer: Any  # issuer.Issuer

    @property
    def did(self) -> str:
        return self.issuer.did

    def issue(self, type_name: str) -> dict[str, Any]:
        """A credential of ``type_name`` from ``issuer/examples/``, valid from yesterday (and
        for 300 days where the type needs an end), with a status entry."""
        from tradevc.issuer.credential_types import load_example

        now = datetime.now(timezone.utc).replace(microsecond=0)
        stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        return self.issuer.issue(
            load_example(type_name), type_name=type_name, valid_from=stamp(now - timedelta(days=1)),
            valid_until=stamp(now + timedelta(days=300)) if TRADE_TYPES[type_name] else None,
        )

    def publish(self) -> None:
        """Put the DID document and the status lists (with every credential issued so far) on
        the server."""
        self.issuer.publish(self.server.root)


@contextmanager
def trade_issuer() -> Iterator[TradeIssuer]:
    """A :class:`TradeIssuer` for the duration of the block; the server stops at its end."""
    from support.https_server import start

    from tradevc.issuer import Issuer

    with tempfile.TemporaryDirectory() as tmp:
        server, stop = start(Path(tmp))
        issuer = Issuer.init(f"{tmp}/issuer", b"bench", name="Bench", did_web_domain=server.host,
                             status_base_url=server.url("status/"))
        try:
            yield TradeIssuer(server, issuer)
        finally:
            issuer.close()
            stop()


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU model, cores, Python, platform."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
