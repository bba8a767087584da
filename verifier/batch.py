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

import functools
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tradevc.vc.compat import WARNING_PREFIX
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits
from tradevc.vc.securing.jws import document_of_file
from tradevc.vc.report import CheckResult, VerificationResult
from tradevc.vc.verification.pipeline import CHALLENGE_REQUIRED

from .forkpool import ordered_results

__all__ = [
    "BatchSummary", "DocumentVerifier", "Scan", "Skipped", "iter_verify_many", "read_documents", "scan_documents",
    "summarize", "verify_many",
]


class DocumentVerifier(Protocol):
    """What a batch needs of a verifier (``Verifier`` is one): a report for each document,
    credential or presentation (checked against the challenge and domain given to its holder;
    without them, a presentation's report says they are needed)."""

    def verify_document(
        self, document: Any, *, challenge: str | None = None, domain: str | None = None
    ) -> VerificationResult: ...


CHUNK_SIZE = 50
"""Documents sent to a worker at a time (fewer round trips between processes)."""


INTERNAL_ERROR = "INTERNAL_ERROR"
"""The code of the check in error of a document the verifier failed on (a bug)."""


def _verify_one(verifier: DocumentVerifier, document: Any, challenge: str | None, domain: str | None) -> VerificationResult:
    if isinstance(document, VerificationResult):  # already decided (e.g. not JSON)
        return document
    try:
        # the pipeline tells a presentation from a credential as it picks the securing mechanism
        return verifier.verify_document(document, challenge=challenge, domain=domain)
    except Exception as e:  # noqa: BLE001 - a bug one document meets must not cost the batch the others
        # "could not verify", never "not verified": nothing was judged (Ctrl-C is not an Exception)
        report = VerificationResult()
        report.add(CheckResult.error(
            "structure", INTERNAL_ERROR,
            "the verifier failed on this document (a bug: please report it, with the document)",
            data={"exception": type(e).__name__, "detail": str(e)[:500]},
        ))
        return report


def _verify_chunk(verifier: DocumentVerifier, chunk: list[Any], challenge: str | None,
                  domain: str | None) -> list[VerificationResult]:
    return [_verify_one(verifier, document, challenge, domain) for document in chunk]


def _verify_range(verifier: DocumentVerifier, documents: Sequence[Any], start: int, stop: int,
                  challenge: str | None, domain: str | None) -> list[VerificationResult]:
    """Verify documents ``start:stop`` of the sequence the worker inherited (nothing to send)."""
    return _verify_chunk(verifier, list(documents[start:stop]), challenge, domain)


def _ignore_interrupts() -> None:
    """In a worker: leave Ctrl-C to the parent. A terminal sends SIGINT to the whole process
    group; the parent stops handing out work and shuts the workers down, and they finish the
    chunk they hold instead of each printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
) -> Generator[VerificationResult, None, None]:
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
    # the workers are forked with the verifier and, for a sequence, the documents: only
    # ranges are sent to them, and reports come back
    if isinstance(documents, Sequence):
        inherited = documents
        stream = ordered_results(
            functools.partial(_verify_range, verifier, inherited),
            ((start, min(start + chunk_size, len(inherited)), challenge, domain)
             for start in range(0, len(inherited), chunk_size)),
            workers=count, initializer=_ignore_interrupts,
        )
    else:
        stream = ordered_results(
            functools.partial(_verify_chunk, verifier),
            ((chunk, challenge, domain) for chunk in _chunks(documents, chunk_size)),
            workers=count, initializer=_ignore_interrupts,
        )
    with closing(stream):  # closing it stops the workers
        for chunk in stream:
            yield from chunk


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


DOCUMENT_SUFFIXES = (".json", ".jwt")
"""The files of a directory that are read as documents (in any letter case)."""


@dataclass(frozen=True)
class Skipped:
    """A file of a batch that was not verified: ``kind`` is ``unreadable`` (a document file
    that could not be opened or read) or ``unrecognised`` (not a ``*.json`` or ``*.jwt``)."""

    source: str
    kind: str
    reason: str


@dataclass
class Scan:
    """What :func:`scan_documents` found: ``(source, document)`` pairs to verify, in order,
    and the files it skipped."""

    items: list[tuple[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _parsed(source: str, data: bytes, limits: Limits) -> Any:
    """The document of one file or line, or a failed report saying why it is not one."""
    try:
        return document_of_file(data, limits=limits)
    except InvalidDocument as e:
        report = VerificationResult()
        report.add(CheckResult.from_error("structure", InvalidDocument(f"{source}: {e.message}", code=e.code)))
        return report


def scan_documents(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> Scan:
    """The documents of a directory (its ``*.json`` and ``*.jwt`` files, sorted; subfolders are
    not looked into) or of a JSON Lines file (one document per line; blank lines skipped). A
    document is I-JSON or a compact JWS (vc+jwt, vp+jwt, VC-JWT 1.1), read by
    :func:`tradevc.vc.securing.jws.document_of_file` (a file's one trailing line end is
    dropped from a token; nothing else is trimmed); one that is neither (not UTF-8 either), or
    is over ``limits``, is replaced by a failed report saying so (``PARSING_ERROR``,
    ``RESOURCE_LIMIT_ERROR``). A file of the directory that cannot be read, or is not a
    document file, is :class:`Skipped`: one bad file never costs the others.

    :raises OSError: ``path`` itself cannot be read.
    """
    path = Path(path)
    scan = Scan()
    if not path.is_dir():
        # JSON Lines ends lines with \n (a \r before it is white space to JSON); not splitlines(),
        # which also breaks at U+0085, U+2028... that a JSON string may hold unescaped. Split as
        # bytes, so that a line that is not UTF-8 is that line's failure only.
        with open(path, "rb") as f:
            data = f.read()
        for number, line in enumerate(data.split(b"\n"), 1):
            if line.strip():
                source = f"{path}:{number}"
                scan.items.append((source, _parsed(source, line, limits)))
        return scan
    for p in sorted(path.iterdir()):
        if p.suffix.lower() not in DOCUMENT_SUFFIXES:
            if not p.is_dir():
                scan.skipped.append(Skipped(str(p), "unrecognised", "not a .json or .jwt file"))
            continue
        try:
            with open(p, "rb") as f:
                data = f.read(limits.max_document_size + 1)
        except OSError as e:
            scan.skipped.append(Skipped(str(p), "unreadable", e.strerror or "cannot be read"))
            continue
        scan.items.append((str(p), _parsed(str(p), data, limits)))
    return scan


def read_documents(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, Any]]:
    """``(source, document)`` for each document of a directory or a JSON Lines file, as
    :func:`scan_documents` reads them, without the files it skipped.

    :raises OSError: ``path`` itself cannot be read.
    """
    return scan_documents(path, limits=limits).items


NEEDS_CHALLENGE = "needs --challenge and --domain"
"""The reason given for a presentation verified without a challenge and domain."""


def _first_problem(result: VerificationResult) -> CheckResult | None:
    return next(iter(result.failures or result.errors), None)


def _reason(result: VerificationResult) -> str:
    """Why a report is not verified: its first failed (else erred) check, by name and code."""
    check = _first_problem(result)
    if check is None:
        return "no check passed"
    if check.code == CHALLENGE_REQUIRED:
        return NEEDS_CHALLENGE
    return f"{check.name}: {check.code}" if check.code else check.name


def _status(result: VerificationResult) -> str:
    if result.verified:
        return "verified"
    return "could not verify" if result.could_not_verify else "not verified"


@dataclass
class BatchSummary:
    """Counts of a batch: verified, not verified by reason, could not verify by reason, the
    documents that needed each deviation a compatibility profile tolerated, and the files
    skipped. ``planned`` is how many documents there were to verify; an ``interrupted``
    batch verified only the first ``total`` of them."""

    total: int = 0
    verified: int = 0
    not_verified: Counter[str] = field(default_factory=Counter)
    could_not_verify: Counter[str] = field(default_factory=Counter)
    documents: list[dict[str, Any]] = field(default_factory=list)
    tolerated: Counter[str] = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)
    planned: int = 0
    interrupted: bool = False

    def skipped_counts(self) -> dict[str, int]:
        """How many files were skipped, by kind (``unreadable``, ``unrecognised``)."""
        counts = Counter(s.kind for s in self.skipped)
        return {kind: counts[kind] for kind in ("unreadable", "unrecognised")}

    def rows(self) -> list[tuple[str, str, int]]:
        """The table's rows: (outcome, reason, documents)."""
        rows = [("verified", "", self.verified)]
        rows += [("not verified", reason, n) for reason, n in sorted(self.not_verified.items())]
        rows += [("could not verify", reason, n) for reason, n in sorted(self.could_not_verify.items())]
        rows += [("tolerated", reason, n) for reason, n in sorted(self.tolerated.items())]
        rows += [(f"skipped ({kind})", "", n) for kind, n in self.skipped_counts().items() if n]
        rows.append(("total", "", self.total))
        return rows

    def problems(self) -> list[str]:
        """One line for each file that did not verify or was skipped, in the batch's order:
        ``SOURCE: STATUS: REASON (MESSAGE)``."""
        lines = [
            f"{d['source']}: {d['status']}: {d['reason']}" + (f" ({d['message']})" if d.get("message") else "")
            for d in self.documents if d["status"] != "verified"
        ]
        lines += [f"{s.source}: skipped: {s.kind} ({s.reason})" for s in self.skipped]
        return lines

    def table(self) -> str:
        """A table for people, then every file that did not verify or was skipped, with why."""
        rows = self.rows()
        width = max(len(r[1]) for r in rows)
        outcome_width = max(18, *(len(r[0]) for r in rows))
        lines = [f"{'outcome':{outcome_width}} {'reason':{width}} {'documents':>9}", "-" * (outcome_width + 11 + width)]
        lines += [f"{outcome:{outcome_width}} {reason:{width}} {n:9d}" for outcome, reason, n in rows]
        if self.interrupted:
            lines.append(f"interrupted: {self.total} of {self.planned} documents verified before the interruption")
        problems = self.problems()
        if problems:
            lines += ["", "files that did not verify or were skipped:", *(f"  {line}" for line in problems)]
        return "\n".join(lines)

    @property
    def outcome(self) -> str:
        """The batch's ``"outcome"``, as its exit status: ``"not_verified"`` if some document
        was not verified, else ``"could_not_verify"`` if some could not be verified or read (or
        there was none, or the batch was interrupted), else ``"verified"``."""
        if self.not_verified:
            return "not_verified"
        if (self.could_not_verify or self.skipped_counts()["unreadable"] or self.total == 0
                or self.interrupted):
            return "could_not_verify"
        return "verified"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "total": self.total,
            "verified": self.verified,
            "notVerified": dict(sorted(self.not_verified.items())),
            "couldNotVerify": dict(sorted(self.could_not_verify.items())),
            "tolerated": dict(sorted(self.tolerated.items())),
            "skipped": self.skipped_counts(),
            "documents": self.documents,
            "skippedFiles": [{"source": s.source, "kind": s.kind, "reason": s.reason} for s in self.skipped],
        }
        if self.interrupted:
            out["interrupted"] = True
            out["planned"] = self.planned
        return out


def _tolerated(result: VerificationResult) -> list[str]:
    """``compat:<id>`` for each deviation a compatibility profile tolerated in ``result`` (and,
    for a presentation, in the credentials inside), once each, sorted."""
    reports = [result, *getattr(result, "credentials", [])]
    return sorted({
        w.split(":", 2)[0] + ":" + w.split(":", 2)[1]
        for r in reports for w in r.warnings if w.startswith(WARNING_PREFIX) and w.count(":") >= 2
    })


def summarize(
    sources: Iterable[str], results: Iterable[VerificationResult], *, skipped: Iterable[Skipped] = (),
    planned: int | None = None,
) -> BatchSummary:
    """Count the outcomes of a batch; each document is listed with its status, and if not
    verified its reason and the message of the check that says why, and with the deviations a
    compatibility profile tolerated in it (``tolerated``). ``skipped`` are the files not
    verified; ``planned`` the number of documents there were to verify, if ``results`` holds
    fewer (an interrupted batch: the first ones of ``sources``)."""
    summary = BatchSummary()
    for source, result in zip(sources, results, strict=planned is None):
        summary.total += 1
        status = _status(result)
        entry: dict[str, Any] = {"source": source, "document": result.document_id, "status": status,
                                 "outcome": result.outcome}
        tolerated = _tolerated(result)
        if tolerated:
            entry["tolerated"] = tolerated
            summary.tolerated.update(tolerated)
        if result.verified:
            summary.verified += 1
        else:
            entry["reason"] = _reason(result)
            problem = _first_problem(result)
            if problem is not None and problem.message and problem.code != CHALLENGE_REQUIRED:
                message = problem.message.removeprefix(f"{source}: ")  # said once, as the entry's source
                entry["message"] = " ".join(message.split())
            (summary.could_not_verify if result.could_not_verify else summary.not_verified)[entry["reason"]] += 1
        summary.documents.append(entry)
    summary.skipped = list(skipped)
    summary.planned = summary.total if planned is None else planned
    summary.interrupted = summary.total < summary.planned
    return summary
