"""Re-verifying archived evidence bundles, on this machine or on a Dask cluster.

When an issuer's key is found compromised, or a trust decision is revised, customs asks which
archived decisions relied on it and which of them would go another way today. :func:`reverify`
runs a *check* over bundles (their bytes, or the paths of their files) and returns one
:class:`ReverifyOutcome` per bundle, in the order given, whichever engine ran them:

- ``engine="local"``: worker processes of this machine (``workers``, default the CPUs; 1 runs
  them in this process), as ``verify_many`` does;
- ``engine="dask"``: the workers of a Dask distributed cluster: the scheduler at ``address``
  (``tcp://host:8786``), or, without one, a cluster of ``workers`` processes started on
  127.0.0.1 for the call and stopped after it. It needs the ``cluster`` extra
  (``pip install 'tradevc[cluster]'``), and tradevc installed on every worker; paths must be
  readable by the workers (give bytes otherwise).

A check is any picklable callable from a bundle's bytes to a :class:`ReverifyOutcome` (a
module-level function, or a :func:`functools.partial` of one over plain values), so that it
can be sent to other processes and machines. :func:`documents_check` gives the default: the
bundle's input documents verified again, offline, as of the bundle's ``verifiedAt``, under the
policy given (else the one the bundle recorded), each key named ``compromised`` distrusted;
the outcome is compared with the one the bundle recorded. A replay of the bundle's retrieved
documents can be plugged in the same way.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tradevc.vc.report import VerificationResult

from .archive import ArchiveError, parse_bundle
from .service import Verifier
from .trust import policy_from_document

__all__ = ["ENGINES", "ReverifyError", "ReverifyOutcome", "check_documents", "documents_check", "reverify"]

ENGINES = ("local", "dask")
CHUNKS_PER_WORKER = 4
"""By default, the bundles are sent in chunks of about 1/4 of each worker's share (fewer round
trips than one by one, and still some balancing of the load between the workers)."""
MAX_CHUNK = 256


class ReverifyError(Exception):
    """The re-verification cannot run: Dask is missing, the cluster cannot be reached."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ReverifyOutcome:
    """One bundle re-verified: its ``digest`` (when known), the ``recorded`` outcome and the
    outcome ``now`` (``verified``, ``not-verified`` or ``could-not-verify``), and why it is not
    verified now (``reason``)."""

    digest: str | None
    recorded: str
    now: str
    reason: str | None = None
    entry_number: str | None = None

    @property
    def changed(self) -> bool:
        """Whether the decision goes another way now."""
        return self.recorded != self.now

    def to_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "entryNumber": self.entry_number, "recorded": self.recorded, "now": self.now,
                "changed": self.changed, "reason": self.reason}


_OUTCOME = {"verified": "verified", "not_verified": "not-verified", "could_not_verify": "could-not-verify"}


def _reason(result: VerificationResult) -> str | None:
    check = next(iter(result.failures or result.errors), None)
    if check is None:
        return None
    return f"{check.name}: {check.code}" if check.code else check.name


_verifiers: dict[str, Verifier] = {}
"""A worker's verifiers, by their policy's JSON: built once per process and policy."""


def _verifier(policy: Mapping[str, Any]) -> Verifier:
    key = json.dumps(policy, sort_keys=True)
    verifier = _verifiers.get(key)
    if verifier is None:
        verifier = _verifiers[key] = Verifier.offline(policy=policy_from_document(dict(policy)))
        if len(_verifiers) > 16:
            _verifiers.pop(next(iter(_verifiers)))
    return verifier


def _relies_on(methods: Sequence[str], compromised: Sequence[str]) -> str | None:
    for method in methods:
        for key in compromised:
            if method == key or method.split("#", 1)[0] == key:
                return method
    return None


def check_documents(data: bytes, *, policy: Mapping[str, Any] | None = None,
                    compromised: Sequence[str] = ()) -> ReverifyOutcome:
    """The default check: verify the bundle's input documents again, offline, as of its
    ``verifiedAt``, under ``policy`` (a trust policy document; None: the one the bundle
    recorded), a document signed with a ``compromised`` key (a verification method's DID URL, or
    a DID for all its keys) not verified; compare with the recorded outcome. Never raises for a
    bad bundle: it is could-not-verify, with the reason."""

    digest = hashlib.sha256(data).hexdigest()
    try:
        bundle, facts = parse_bundle(data)
    except ArchiveError as e:
        return ReverifyOutcome(digest, "could-not-verify", "could-not-verify", f"not a bundle: {e.message}")
    recorded = facts.outcome

    def outcome(now: str, reason: str | None) -> ReverifyOutcome:
        return ReverifyOutcome(digest, recorded, now, reason, facts.entry_number)

    given = bundle.get("input")
    documents = given.get("documents") if isinstance(given, dict) else None
    options = given.get("options") if isinstance(given, dict) else None
    options = options if isinstance(options, dict) else {}
    if not isinstance(documents, list) or not documents:
        return outcome("could-not-verify", "the bundle holds no input documents")
    rule = policy
    if rule is None:
        trust = bundle.get("trust")
        rule = trust.get("policy") if isinstance(trust, dict) else None
    if not isinstance(rule, Mapping):
        return outcome("could-not-verify", "no trust policy: the bundle records none; give one")
    try:
        verifier = _verifier(rule)
    except ValueError as e:
        return outcome("could-not-verify", f"the trust policy cannot be used: {e}")
    key = _relies_on(facts.verification_methods, compromised)
    if key is not None:
        return outcome("not-verified", f"relied on the compromised key {key}")
    results: list[VerificationResult] = []
    for document in documents:
        try:
            results.append(verifier.verify_document(
                document, challenge=options.get("challenge"), domain=options.get("domain"), now=facts.verified_at))
        except Exception as e:  # noqa: BLE001  (a bug one bundle meets must not cost the others)
            return outcome("could-not-verify", f"the verifier failed ({type(e).__name__}: {str(e)[:200]})")
    for wanted in ("not_verified", "could_not_verify"):
        for result in results:
            if result.outcome == wanted:
                return outcome(_OUTCOME[wanted], _reason(result))
    return outcome("verified", None)


def documents_check(policy: Mapping[str, Any] | None = None,
                    compromised: Sequence[str] = ()) -> Callable[[bytes], ReverifyOutcome]:
    """:func:`check_documents` bound to ``policy`` and ``compromised``, picklable."""
    return functools.partial(check_documents, policy=None if policy is None else dict(policy),
                             compromised=tuple(compromised))


Item = bytes | str | os.PathLike[str]


def _check_chunk(check: Callable[[bytes], ReverifyOutcome], chunk: list[Item]) -> list[ReverifyOutcome]:
    outcomes = []
    for item in chunk:
        if isinstance(item, (bytes, bytearray)):
            data = bytes(item)
        else:
            try:
                data = Path(item).read_bytes()
            except OSError as e:
                outcomes.append(ReverifyOutcome(None, "could-not-verify", "could-not-verify",
                                                f"cannot read {item}: {e.strerror or e}"))
                continue
        outcomes.append(check(data))
    return outcomes


def _chunks(items: Sequence[Item], size: int | None, slots: int) -> list[list[Item]]:
    if size is None:
        size = max(1, min(MAX_CHUNK, -(-len(items) // (slots * CHUNKS_PER_WORKER))))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def reverify(items: Sequence[Item], check: Callable[[bytes], ReverifyOutcome], *,
             engine: Literal["local", "dask"] = "local", workers: int | None = None, address: str | None = None,
             chunk_size: int | None = None, connect_timeout: float = 30.0) -> list[ReverifyOutcome]:
    """``check`` run over each bundle of ``items`` (bytes, or paths of files), by ``engine``; the
    outcomes in the order of ``items``, the same whichever engine (see the module).
    ``chunk_size`` is how many bundles a task holds (default: see :data:`CHUNKS_PER_WORKER`);
    ``connect_timeout`` bounds reaching a Dask scheduler, in seconds.

    :raises ValueError: an unknown engine, workers below 1, an address with the local engine.
    :raises ReverifyError: Dask is not installed, or the cluster cannot be reached or started."""
    if engine not in ENGINES:
        raise ValueError(f"an engine is one of {', '.join(ENGINES)}, not {engine!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number of 1 or more, not {workers!r}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    items = list(items)
    if engine == "dask":
        return _on_dask(items, check, workers=workers, address=address, timeout=connect_timeout,
                        chunk_size=chunk_size)
    if address is not None:
        raise ValueError("an address names a Dask scheduler: give engine='dask'")
    count = workers if workers is not None else (os.cpu_count() or 1)
    chunks = _chunks(items, chunk_size, count)
    if count == 1 or len(chunks) <= 1:
        return [outcome for chunk in chunks for outcome in _check_chunk(check, chunk)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=min(count, len(chunks)),
                             mp_context=multiprocessing.get_context(method)) as executor:
        done = executor.map(functools.partial(_check_chunk, check), chunks)
        return [outcome for chunk in done for outcome in chunk]


def _on_dask(items: list[Item], check: Callable[[bytes], ReverifyOutcome], *, workers: int | None,
             address: str | None, timeout: float, chunk_size: int | None) -> list[ReverifyOutcome]:
    try:  # typed as Any: distributed's functions are not annotated
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise ReverifyError("re-verifying on a Dask cluster needs Dask distributed: "
                            "pip install 'tradevc[cluster]'") from None
    cluster = None
    try:
        if address is None:
            cluster = distributed.LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None, protocol="tcp")
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(address, timeout=timeout)
    except Exception as e:  # noqa: BLE001  (OSError, TimeoutError, or whatever distributed raises)
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler {address}" if address else "a local Dask cluster"
        raise ReverifyError(f"cannot reach {where}: {e}; check the address and that the scheduler runs") from None
    try:
        slots = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values())
        chunks = _chunks(items, chunk_size, max(1, slots))
        futures = client.map(_check_chunk, [check] * len(chunks), chunks, pure=False)
        try:
            done: list[list[ReverifyOutcome]] = client.gather(futures)
        except Exception as e:  # noqa: BLE001  (a worker lost, a check that cannot be unpickled there...)
            raise ReverifyError(f"the Dask cluster failed to run the re-verification ({type(e).__name__}: "
                                f"{str(e)[:300]}); check that every worker has tradevc installed, then retry") \
                from None
        return [outcome for chunk in done for outcome in chunk]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
