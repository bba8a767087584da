"""The ``related_resource`` check: each ``relatedResource`` entry's digests (see
:mod:`tradevc.vc.digests`) against the bytes the verifier holds for the resource (pinned
contexts, held schemas, a loader's own). Nothing is ever fetched: a resource the verifier does
not hold is reported as not checked.
"""

from __future__ import annotations

import hashlib
import json
import threading
from importlib import resources as _resources
from typing import Any, Protocol, runtime_checkable

from tradevc.vc.digests import check_digests, parse_digests
from tradevc.vc.errors import ResolutionError, VcError
from tradevc.vc.report import CheckResult, VerificationResult

__all__ = [
    "CHECK",
    "LocalResources",
    "PinnedContextFiles",
    "ResourceChain",
    "check_related_resources",
    "pinned_context_files",
]

CHECK = "related_resource"


# -- resources the verifier holds -----------------------------------------------------------------


@runtime_checkable
class LocalResources(Protocol):
    """Resources a verifier holds locally, by URL: their exact bytes, or None for a URL it does
    not hold. Never fetches."""

    def resource_bytes(self, url: str) -> bytes | None:
        """The exact bytes held for ``url``, or None.

        :raises ResolutionError: the URL is held but its bytes cannot be read or fail their pin.
        """
        ...


class PinnedContextFiles:
    """The JSON-LD contexts pinned in the ``contexts`` package, as bytes exactly as stored
    (each checked against its SHA-256 in ``contexts/index.json``). Thread-safe."""

    def __init__(self) -> None:
        raw = json.loads(_resources.files("tradevc.contexts").joinpath("index.json").read_bytes())
        self._index = {entry["url"]: (entry["file"], entry["sha256"]) for entry in raw["contexts"]}
        self._bytes: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def resource_bytes(self, url: str) -> bytes | None:
        """:raises ResolutionError: the pinned file is missing or does not match its SHA-256."""
        entry = self._index.get(url)
        if entry is None:
            return None
        with self._lock:
            data = self._bytes.get(url)
            if data is None:
                data = _read_pinned("tradevc.contexts", entry[0], entry[1], url)
                self._bytes[url] = data
        return data


def _read_pinned(package: str, file_name: str, sha256: str, url: str) -> bytes:
    try:
        data = _resources.files(package).joinpath(file_name).read_bytes()
    except OSError as e:
        raise ResolutionError(f"the pinned file {file_name!r} for {url!r} cannot be read") from e
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ResolutionError(f"the pinned file {file_name!r} for {url!r} has SHA-256 {actual}, expected {sha256}")
    return data


class ResourceChain:
    """Several :class:`LocalResources`, asked in order."""

    def __init__(self, *stores: LocalResources) -> None:
        self.stores = stores

    def resource_bytes(self, url: str) -> bytes | None:
        """:raises ResolutionError: as the first store that holds ``url``."""
        for store in self.stores:
            data = store.resource_bytes(url)
            if data is not None:
                return data
        return None


_PINNED_CONTEXTS: PinnedContextFiles | None = None


def pinned_context_files() -> PinnedContextFiles:
    """The process-wide :class:`PinnedContextFiles` (created on first use)."""
    global _PINNED_CONTEXTS
    if _PINNED_CONTEXTS is None:
        _PINNED_CONTEXTS = PinnedContextFiles()
    return _PINNED_CONTEXTS


def check_related_resources(entries: Any, resources: LocalResources, result: VerificationResult) -> None:
    """``related_resource``: one check per ``relatedResource`` entry (already checked by the
    data model: objects with unique URL ids and well-formed digests). Passed when every digest
    matches the bytes the verifier holds for the resource; failed
    (``RESOURCE_INTEGRITY_ERROR``) when one does not; skipped when the verifier does not hold
    the resource (it is never fetched, so its digest could not be checked); an error when a
    held resource cannot be read."""
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        url = entry["id"]
        try:
            digests = parse_digests(entry, f"relatedResource[{index}]")
            data = resources.resource_bytes(url)
            if data is None:
                result.add(
                    CheckResult.skipped(
                        CHECK, f"{url} is not held locally and is never fetched: its digest was not checked",
                        subject=url,
                    )
                )
                continue
            check_digests(digests, data, f"the {len(data)} bytes held locally for {url}")
        except ResolutionError as e:
            result.add(CheckResult.error(CHECK, e.code, e.message, subject=url))
        except VcError as e:
            result.add(CheckResult.from_error(CHECK, e, subject=url))
        else:
            names = ", ".join(sorted({d.name for d in digests}))
            result.add(CheckResult.passed(CHECK, f"{url}: {names} matches the bytes held locally", subject=url))
