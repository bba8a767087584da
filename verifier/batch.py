"""Verifying many documents: across worker processes, each with its own warm caches, and a
summary of the outcomes for people (a table) and machines (JSON).

Worker processes are forked from the calling process, so each starts with the caller's
verifier, usually a ``Verifier`` (its policy, resolvers, HTTPS session and whatever its
caches and the process-wide context caches already hold), and keeps its caches warm for every
document it is given. Where ``fork`` is not available the documents are verified in the
calling process.

This module needs of a verifier only what :class:`DocumentVerifier` names, and does not import
``tradevc.verifier.service`` (whose ``Verifier.verify_many`` calls this module): the dependency goes one way.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tradevc.vc.compat import WARNING_PREFIX
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits, decode_text
from tradevc.vc.securing.jws import document_of_file
from tradevc.vc.report import CheckResult, VerificationResult

__all__ = ["BatchSummary", "DocumentVerifier", "iter_verify_many", "read_documents", "summarize", "verify_many"]


class DocumentVerifier(Protocol):
    """What a batch needs of a verifier (``Verifier`` is one): a report for each document,
    credential or presentation (checked against the challenge and domain given to its holder;
    without them, a presentation's report says they are needed)."""

    def verify_document(
        self, document: Any, *, challenge: str | None = None, domain: str | None = None
    ) -> VerificationResult: ...


CHUNK_SIZE = 50
"""Documents sent to a worker at a time (fewer round trips between processes)."""


def _verify_one(verifier: DocumentVerifier, document: Any, challenge: str | None, domain: str | None) -> VerificationResult:
    if isinstance(document, VerificationResult):  # already decided (e.g. not JSON)
        return document
    # the pipeline tells a presentation from a credential as it picks the securing mechanism
    return verifier.verify_document(document, challenge=challenge, domain=domain)


# What a worker process inherits: set in the parent just before the workers are forked.
_worker_verifier: DocumentVerifier | None = None
_worker_documents: Sequence[Any] = ()
_fork_lock = threading.Lock()


def _verify_chunk(chunk: list[Any], challenge: str | None, domain: str | None) -> list[VerificationResult]:
    assert _worker_verifier is not None, "worker process started without a verifier"
    return [_verify_one(_worker_verifier, document, challenge, domain) for document in chunk]


def _verify_range(start: int, stop: int, challenge: str | None, domain: str | None) -> list[VerificationResult]:
    """Verify documents ``start:stop`` of the sequence the worker inherited (nothing to send)."""
    return _verify_chunk(list(_worker_documents[start:stop]), challenge, domain)


def _chunks(documents: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for document in documents:
        chunk.append(document)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def iter_verify_many(
    verifier: DocumentVerifier,
    documents: Iterable[Any],
    *,
    workers: int | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[VerificationResult]:
    """Reports for ``documents`` in their order, produced by ``workers`` processes (default:
    the number of CPUs; 1 verifies in this process). At most a few chunks per worker are in
    flight, so any number of documents can be streamed through in bounded memory.

    A document may be a credential, a presentation (verified with ``challenge`` and
    ``domain``; without them it fails) or an already made :class:`VerificationResult`
    (passed through, e.g. for input that was not JSON).
    """
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise ValueError("workers must be at least 1")
    if count == 1 or "fork" not in multiprocessing.get_all_start_methods():
        for document in documents:
            yield _verify_one(verifier, document, challenge, domain)
        return
    global _worker_verifier, _worker_documents
    inherited = isinstance(documents, Sequence)
    with _fork_lock:
        _worker_verifier = verifier
        _worker_documents = documents if isinstance(documents, Sequence) else ()
        gc.freeze()  # keep the inherited objects out of the collector: fewer copied pages
        executor = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork"))
        try:  # fork the workers now, while these are the objects to inherit
            executor.submit(int, 0).result()
        finally:
            _worker_verifier, _worker_documents = None, ()
            gc.unfreeze()
    try:
        pending: deque[Future[list[VerificationResult]]] = deque()
        if inherited:
            assert isinstance(documents, Sequence)
            tasks: Iterator[tuple[Any, ...]] = (
                (_verify_range, start, min(start + chunk_size, len(documents)), challenge, domain)
                for start in range(0, len(documents), chunk_size)
            )
        else:
            tasks = ((_verify_chunk, chunk, challenge, domain) for chunk in _chunks(documents, chunk_size))
        for task in tasks:
            pending.append(executor.submit(*task))
            if len(pending) >= 3 * count:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def verify_many(
    verifier: DocumentVerifier,
    documents: Iterable[Any],
    *,
    workers: int | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[VerificationResult]:
    """The reports of :func:`iter_verify_many`, as a list; ``progress(1)`` is called after each."""
    results = []
    for result in iter_verify_many(verifier, documents, workers=workers, challenge=challenge, domain=domain):
        results.append(result)
        if progress is not None:
            progress(1)
    return results


def read_documents(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, Any]]:
    """``(source, document)`` for each document of a directory (its ``*.json`` and ``*.jwt``
    files, sorted) or a JSON Lines file (one document per line; blank lines skipped). A
    document is I-JSON or a compact JWS (vc+jwt, vp+jwt, VC-JWT 1.1), read by
    :func:`tradevc.vc.securing.jws.document_of_file` (a file's one trailing line end is
    dropped from a token; nothing else is trimmed); one that is neither, or is over
    ``limits``, is replaced by a failed report saying so (``PARSING_ERROR``,
    ``RESOURCE_LIMIT_ERROR``).

    :raises OSError: the path cannot be read.
    :raises NotUtf8Error: a JSON Lines file that is not UTF-8 (a byte order mark is dropped).
    """
    path = Path(path)
    items: list[tuple[str, bytes | str]]
    if path.is_dir():
        files = sorted([*path.glob("*.json"), *path.glob("*.jwt")])
        items = []
        for p in files:
            with open(p, "rb") as f:
                items.append((str(p), f.read(limits.max_document_size + 1)))
    else:
        items = [
            (f"{path}:{number}", line)
            # JSON Lines ends lines with \n (a \r before it is white space to JSON); not splitlines(),
            # which also breaks at U+0085, U+2028... that a JSON string may hold unescaped
            for number, line in enumerate(decode_text(path.read_bytes(), source=str(path)).split("\n"), 1)
            if line.strip()
        ]
    out: list[tuple[str, Any]] = []
    for source, text in items:
        try:
            out.append((source, document_of_file(text, limits=limits)))
        except InvalidDocument as e:
            report = VerificationResult()
            report.add(CheckResult.from_error("structure", InvalidDocument(f"{source}: {e.message}", code=e.code)))
            out.append((source, report))
    return out


def _reason(result: VerificationResult) -> str:
    """Why a report is not verified: its first failed (else erred) check, by name and code."""
    for check in result.failures or result.errors:
        return f"{check.name}: {check.code}" if check.code else check.name
    return "no check passed"


def _status(result: VerificationResult) -> str:
    if result.verified:
        return "verified"
    return "could not verify" if result.could_not_verify else "not verified"


@dataclass
class BatchSummary:
    """Counts of a batch: verified, not verified by reason, could not verify by reason, and
    the documents that needed each deviation a compatibility profile tolerated."""

    total: int = 0
    verified: int = 0
    not_verified: Counter[str] = field(default_factory=Counter)
    could_not_verify: Counter[str] = field(default_factory=Counter)
    documents: list[dict[str, Any]] = field(default_factory=list)
    tolerated: Counter[str] = field(default_factory=Counter)

    def table(self) -> str:
        """A table for people."""
        rows = [("verified", "", self.verified)]
        rows += [("not verified", reason, n) for reason, n in sorted(self.not_verified.items())]
        rows += [("could not verify", reason, n) for reason, n in sorted(self.could_not_verify.items())]
        rows += [("tolerated", reason, n) for reason, n in sorted(self.tolerated.items())]
        rows.append(("total", "", self.total))
        width = max(len(r[1]) for r in rows)
        lines = [f"{'outcome':18} {'reason':{width}} {'documents':>9}", "-" * (29 + width)]
        lines += [f"{outcome:18} {reason:{width}} {n:9d}" for outcome, reason, n in rows]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "verified": self.verified,
            "notVerified": dict(sorted(self.not_verified.items())),
            "couldNotVerify": dict(sorted(self.could_not_verify.items())),
            "tolerated": dict(sorted(self.tolerated.items())),
            "documents": self.documents,
        }


def _tolerated(result: VerificationResult) -> list[str]:
    """``compat:<id>`` for each deviation a compatibility profile tolerated in ``result`` (and,
    for a presentation, in the credentials inside), once each, sorted."""
    reports = [result, *getattr(result, "credentials", [])]
    return sorted({
        w.split(":", 2)[0] + ":" + w.split(":", 2)[1]
        for r in reports for w in r.warnings if w.startswith(WARNING_PREFIX) and w.count(":") >= 2
    })


def summarize(sources: Iterable[str], results: Iterable[VerificationResult]) -> BatchSummary:
    """Count the outcomes of a batch; each document is listed with its status and reason, and
    with the deviations a compatibility profile tolerated in it (``tolerated``)."""
    summary = BatchSummary()
    for source, result in zip(sources, results, strict=True):
        summary.total += 1
        status = _status(result)
        entry: dict[str, Any] = {"source": source, "document": result.document_id, "status": status}
        tolerated = _tolerated(result)
        if tolerated:
            entry["tolerated"] = tolerated
            summary.tolerated.update(tolerated)
        if result.verified:
            summary.verified += 1
        else:
            entry["reason"] = _reason(result)
            (summary.could_not_verify if result.could_not_verify else summary.not_verified)[entry["reason"]] += 1
        summary.documents.append(entry)
    return summary
