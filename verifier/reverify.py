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
can be sent to other processes and machines. :func:`replay_check` gives the default: the
bundle's seal checked, then its decision replayed offline from its recorded bytes (DID
documents, status lists, contexts, schemas: as :func:`tradevc.verifier.evidence.replay` does,
so a did:web issuer whose site is gone and a status list as it was then are read as recorded),
with what is known now: keys found ``compromised`` (a decision that relied on one is not
verified now, saying which), and optionally a revised trust ``policy``.
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

from tradevc.vc.checks.policy import VerificationPolicy

from .archive import ArchiveError, parse_bundle
from .evidence import EvidenceError, replay
from .trust import policy_from_document

__all__ = ["ENGINES", "ReverifyError", "ReverifyOutcome", "check_replay", "replay_check", "reverify"]

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


def _outcome_now(report: Mapping[str, Any]) -> str:
    """A replayed report's outcome as the index writes it (an entry's decision: ACCEPT verified,
    REJECT not verified, REVIEW could not verify)."""
    if "decision" in report:
        return {"ACCEPT": "verified", "REJECT": "not-verified"}.get(str(report["decision"]).upper(),
                                                                   "could-not-verify")
    return _OUTCOME.get(str(report.get("outcome")), "could-not-verify")


_policies: dict[str, VerificationPolicy] = {}
"""A worker's revised policies, by their JSON: read once per process."""


def _policy(document: Mapping[str, Any]) -> VerificationPolicy:
    key = json.dumps(document, sort_keys=True)
    policy = _policies.get(key)
    if policy is None:
        policy = _policies[key] = policy_from_document(dict(document))
        if len(_policies) > 16:
            _policies.pop(next(iter(_policies)))
    return policy


def _relies_on(methods: Sequence[str], compromised: Sequence[str]) -> str | None:
    for method in methods:
        for key in compromised:
            if method == key or method.split("#", 1)[0] == key:
                return method
    return None


def check_replay(data: bytes, *, compromised: Sequence[str] = (), sealers: Sequence[str] | None = None,
                 policy: Mapping[str, Any] | None = None) -> ReverifyOutcome:
    """The default check. The bundle's seal is checked (against ``sealers``, DIDs or DID URLs,
    when given); its decision is replayed offline from its recorded bytes, as of the time it was
    made (:func:`tradevc.verifier.evidence.replay`), under ``policy`` (a trust policy document)
    if given, else the policy it recorded. A decision that relied on a ``compromised`` key (a
    verification method's DID URL, or a DID for all its keys) that made a proof of one of its
    documents, of a status list it read, or of a vouch on its trust path (a stored anchor, a linked
    presentation's), is not verified now, and the reason names the key. Never raises for a bad bundle:
    it is could-not-verify, with the reason."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        bundle, facts = parse_bundle(data)
    except ArchiveError as e:
        return ReverifyOutcome(digest, "could-not-verify", "could-not-verify", f"not a bundle: {e.message}")
    recorded = facts.outcome

    def outcome(now: str, reason: str | None) -> ReverifyOutcome:
        return ReverifyOutcome(digest, recorded, now, reason, facts.entry_number)

    try:
        revised = None if policy is None else _policy(policy)
    except ValueError as e:
        return outcome("could-not-verify", f"the trust policy cannot be used: {e}")
    try:
        replayed = replay(bundle, trusted=list(sealers) if sealers else None, policy=revised)
    except EvidenceError as e:
        return outcome("could-not-verify", f"cannot be replayed: {e.message}")
    except Exception as e:  # noqa: BLE001  (a bug one bundle meets must not cost the others)
        return outcome("could-not-verify", f"the replay failed ({type(e).__name__}: {str(e)[:200]})")
    now = _outcome_now(replayed.report)
    if now == "verified" and compromised:
        key = _relies_on(facts.verification_methods, compromised)
        if key is not None:
            return outcome("not-verified", f"relied on the compromised key {key}")
        key = _relies_on(bundle.status_list_methods(), compromised)
        if key is not None:
            return outcome("not-verified", f"relied on the compromised key {key}, which signed a status list it read")
        key = _relies_on(bundle.vouch_methods(), compromised)
        if key is not None:
            return outcome("not-verified", f"relied on the compromised key {key}, which signed a vouch on its trust path")
    reason = _first_failure(replayed.report) if now != "verified" else None
    if reason is None and now != recorded and replayed.differences:
        first = replayed.differences[0]
        reason = f"{first.where}: {first.recorded} -> {first.replayed}"
    return outcome(now, reason)


def _checks(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [c for c in report.get("checks") or [] if isinstance(c, Mapping)]
    for inner in [*(report.get("credentials") or []), *(report.get("documents") or [])]:
        if isinstance(inner, Mapping):
            found.extend(_checks(inner))
    return found


def _first_failure(report: Mapping[str, Any]) -> str | None:
    """The first check that failed (else the first that could not be carried out), as
    ``name: CODE``."""
    checks = _checks(report)
    for wanted in ("failed", "error"):
        for check in checks:
            if check.get("outcome") == wanted:
                return f"{check.get('name')}: {check.get('code')}" if check.get("code") else str(check.get("name"))
    return None


def replay_check(compromised: Sequence[str] = (), *, sealers: Sequence[str] | None = None,
                 policy: Mapping[str, Any] | None = None) -> Callable[[bytes], ReverifyOutcome]:
    """:func:`check_replay` bound to ``compromised``, ``sealers`` and ``policy``, picklable."""
    return functools.partial(check_replay, compromised=tuple(compromised),
                             sealers=None if not sealers else tuple(sealers),
                             policy=None if policy is None else dict(policy))


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
