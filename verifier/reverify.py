"""Re-verifying archived evidence bundles, on this machine or on a Dask cluster.

When an issuer's key is found compromised, or a trust decision is revised, customs asks which
archived decisions relied on it and which of them would go another way today. :func:`reverify`
runs a *check* over bundles (their bytes, or the paths of their files) and returns one
:class:`ReverifyOutcome` per bundle, in the order given, whichever engine ran them:

- ``engine="local"``: worker processes of this machine (``workers``, default the CPUs; 1 runs
  them in this process), as ``verify_many`` does;
- ``engine="dask"``: the workers of a Dask distributed cluster: the scheduler at ``address``
  (``tls://host:8786``, with the client certificate and the cluster's CA in ``security``:
  see :func:`cluster_security`), or, without one, a cluster of ``workers`` processes started
  on 127.0.0.1 for the call and stopped after it, which speaks TLS with a throwaway CA and
  certificate made for the call, so that no other process can join it or submit tasks to it.
  A ``tcp://`` scheduler is refused unless ``insecure=True``: anyone who can reach it can run
  code on it and forge what it returns. It needs the ``cluster`` extra
  (``pip install 'tradevc[cluster]'``), and tradevc installed on every worker; paths must be
  readable by the workers (give bytes otherwise).

Whatever the engine, each outcome must name the SHA-256 of the bytes it was computed from, and
it is compared here with the digest of the bundle sent at its place: an outcome for another
bundle, or a list reordered or cut short, stops the run (:class:`ReverifyError`) instead of
being returned. :func:`reverify_archived` also compares each archived file with the digest
the archive's index gives it before sending it.

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
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tradevc.vc.checks.policy import VerificationPolicy

from .archive import ArchiveError, ArchivedBundle, parse_bundle
from .evidence import EvidenceError, replay
from .forkpool import ordered_results
from .trust import TrustPathPolicy, policy_from_document

__all__ = ["ENGINES", "ReverifyError", "ReverifyOutcome", "check_replay", "cluster_security", "replay_check",
           "reverify", "reverify_archived"]

ENGINES = ("local", "dask")
CHUNKS_PER_WORKER = 4
"""By default, the bundles are sent in chunks of about 1/4 of each worker's share (fewer round
trips than one by one, and still some balancing of the load between the workers)."""
MAX_CHUNK = 256


class ReverifyError(Exception):
    """The re-verification cannot run or its result cannot be trusted: Dask is missing, the
    cluster cannot be reached, an outcome came back for another bundle than the one sent."""

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


def _policy(document: Mapping[str, Any], anchors: Sequence[tuple[str, Any]] | None) -> VerificationPolicy:
    key = json.dumps([document, anchors], sort_keys=True)
    policy = _policies.get(key)
    if policy is None:
        policy = _policies[key] = policy_from_document(dict(document), anchors=anchors)
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
                 policy: Mapping[str, Any] | None = None,
                 anchors: Sequence[tuple[str, Any]] | None = None) -> ReverifyOutcome:
    """The default check. The bundle's seal is checked (against ``sealers``, DIDs or DID URLs,
    when given); its decision is replayed offline from its recorded bytes, as of the time it was
    made (:func:`tradevc.verifier.evidence.replay`), under ``policy`` (a trust policy document)
    if given, else the policy it recorded; ``anchors``, when given, is the policy's trust store
    already read (``(where it came from, credential)`` pairs, see
    :func:`~tradevc.verifier.trust.policy_from_document`), and the document's own ``anchors``
    member is not read: :func:`replay_check` reads it where the policy file is.

    A decision that relied on a ``compromised`` key (a verification method's DID URL, or a DID
    for all its keys) that made a proof of one of its documents, of a status list it read, or of
    a vouch on its trust path (a stored anchor, a linked presentation's), is not verified now,
    and the reason names the key. The outcome's ``digest`` is the SHA-256 of ``data``. Never
    raises for a bad bundle: it is could-not-verify, with the reason."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        bundle, facts = parse_bundle(data)
    except ArchiveError as e:
        return ReverifyOutcome(digest, "could-not-verify", "could-not-verify", f"not a bundle: {e.message}")
    recorded = facts.outcome

    def outcome(now: str, reason: str | None) -> ReverifyOutcome:
        return ReverifyOutcome(digest, recorded, now, reason, facts.entry_number)

    try:
        revised = None if policy is None else _policy(policy, anchors)
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
                 policy: Mapping[str, Any] | None = None,
                 base: str | os.PathLike[str] | None = None) -> Callable[[bytes], ReverifyOutcome]:
    """:func:`check_replay` bound to ``compromised``, ``sealers`` and ``policy``, picklable.

    The policy is read here, in the calling process: the trust store files its ``anchors``
    name (relative to ``base``, the policy file's folder) are read now and bound as credentials,
    so that workers in other processes, folders or machines need not see them.

    :raises ValueError: the policy cannot be used (the message names the member or the file)."""
    anchors: tuple[tuple[str, Any], ...] | None = None
    if policy is not None:
        parsed = policy_from_document(dict(policy), base=None if base is None else Path(base))
        if isinstance(parsed, TrustPathPolicy):
            anchors = tuple((stored.origin.removeprefix("trust store "), stored.document) for stored in parsed.anchors)
    return functools.partial(check_replay, compromised=tuple(compromised),
                             sealers=None if not sealers else tuple(sealers),
                             policy=None if policy is None else dict(policy), anchors=anchors)


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


def _digest_of(item: Item) -> str | None:
    """The SHA-256 of a bundle's bytes, read here for a path (None: it cannot be read here)."""
    if isinstance(item, (bytes, bytearray)):
        return hashlib.sha256(item).hexdigest()
    try:
        return hashlib.sha256(Path(item).read_bytes()).hexdigest()
    except OSError:
        return None


def _matched(outcomes: Sequence[Any], digests: Sequence[str | None]) -> list[ReverifyOutcome]:
    """``outcomes`` if each one names the digest of the bundle sent at its place (an unreadable
    file's may name none, if it could not verify it either).

    :raises ReverifyError: one does not, or they are not as many as the bundles."""
    if len(outcomes) != len(digests):
        raise ReverifyError(f"the workers returned {len(outcomes)} outcome(s) for {len(digests)} bundle(s), so none "
                            "can be trusted; check the cluster and run again")
    for place, (outcome, digest) in enumerate(zip(outcomes, digests), 1):
        if not isinstance(outcome, ReverifyOutcome):
            raise ReverifyError(f"the workers returned a {type(outcome).__name__} for bundle {place} of "
                                f"{len(digests)}, not an outcome, so none can be trusted; check the cluster and run "
                                "again")
        if outcome.digest == digest or (digest is None and outcome.digest is None
                                        and outcome.now == "could-not-verify"):
            continue
        named = outcome.digest[:16] if outcome.digest else "no bundle"
        sent = digest[:16] if digest else "a file that cannot be read here"
        raise ReverifyError(f"the outcome returned for bundle {place} of {len(digests)} is for {named}, not for the "
                            f"bundle sent ({sent}): a worker returned a wrong, reordered or forged outcome, or the "
                            "file changed during the run; no outcome is reported, check the cluster and run again")
    return list(outcomes)


def reverify(items: Sequence[Item], check: Callable[[bytes], ReverifyOutcome], *,
             engine: Literal["local", "dask"] = "local", workers: int | None = None, address: str | None = None,
             chunk_size: int | None = None, connect_timeout: float = 30.0, digests: Sequence[str | None] | None = None,
             security: Any = None, insecure: bool = False) -> list[ReverifyOutcome]:
    """``check`` run over each bundle of ``items`` (bytes, or paths of files), by ``engine``; the
    outcomes in the order of ``items``, the same whichever engine (see the module).
    ``chunk_size`` is how many bundles a task holds (default: see :data:`CHUNKS_PER_WORKER`);
    ``connect_timeout`` bounds reaching a Dask scheduler, in seconds.

    ``check`` must name in each outcome's ``digest`` the SHA-256 (hex) of the bytes it was
    given; each is compared with ``digests`` (the SHA-256 of each item, when already known;
    else computed here, each file read in this process).

    ``address``, a remote Dask scheduler, is ``tls://HOST:PORT``, reached with ``security`` (a
    ``distributed.security.Security`` with the cluster's CA and a client certificate, as
    :func:`cluster_security` makes); ``tcp://HOST:PORT`` only with ``insecure=True``. Without
    an address, the local Dask cluster uses TLS with certificates made for the call.

    :raises ValueError: an unknown engine, workers below 1, an address with the local engine, an
        address that is not ``tls://`` (or ``tcp://`` with ``insecure``), ``tls://`` without
        ``security``, ``digests`` not one per item.
    :raises ReverifyError: Dask is not installed, the cluster cannot be reached or started, or
        an outcome returned does not name the digest of the bundle sent at its place."""
    if engine not in ENGINES:
        raise ValueError(f"an engine is one of {', '.join(ENGINES)}, not {engine!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number of 1 or more, not {workers!r}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    items = list(items)
    if digests is not None and len(digests) != len(items):
        raise ValueError(f"digests must give one digest per item: {len(digests)} for {len(items)}")
    if engine == "local" and address is not None:
        raise ValueError("an address names a Dask scheduler: give engine='dask'")
    if engine == "dask":
        _check_address(address, security, insecure)
    expected = list(digests) if digests is not None else [_digest_of(item) for item in items]
    if engine == "dask":
        return _matched(_on_dask(items, check, workers=workers, address=address, timeout=connect_timeout,
                                 chunk_size=chunk_size, security=security), expected)
    count = workers if workers is not None else (os.cpu_count() or 1)
    chunks = _chunks(items, chunk_size, count)
    if count == 1 or len(chunks) <= 1:
        return _matched([outcome for chunk in chunks for outcome in _check_chunk(check, chunk)], expected)
    try:
        if "fork" in multiprocessing.get_all_start_methods():  # see .forkpool: a killed worker never hangs the run
            done = list(ordered_results(functools.partial(_check_chunk, check), ((chunk,) for chunk in chunks),
                                        workers=min(count, len(chunks))))
        else:
            with ProcessPoolExecutor(max_workers=min(count, len(chunks)),
                                     mp_context=multiprocessing.get_context("spawn")) as executor:
                done = list(executor.map(functools.partial(_check_chunk, check), chunks))
    except BrokenProcessPool as e:
        raise ReverifyError(f"{e}: killed, or out of memory? Run again, or with fewer workers") from None
    return _matched([outcome for chunk in done for outcome in chunk], expected)


def reverify_archived(bundles: Sequence[ArchivedBundle], check: Callable[[bytes], ReverifyOutcome], *,
                      as_bytes: bool = False, **options: Any) -> list[ReverifyOutcome]:
    """:func:`reverify` of archived bundles (as :meth:`~tradevc.verifier.archive.Archive.search`
    returns them), one outcome each in their order. Each file is read here first and compared
    with the digest the index gives it: a file that no longer holds the indexed bundle (altered,
    or swapped for another bundle) is not verified, and one that cannot be read could not be;
    neither is sent. The others are sent as paths, or as their bytes (``as_bytes``: for workers
    that cannot read the archive's folder). ``options`` are :func:`reverify`'s."""
    outcomes: list[ReverifyOutcome | None] = [None] * len(bundles)
    items: list[Item] = []
    digests: list[str | None] = []
    places: list[int] = []
    for place, bundle in enumerate(bundles):
        try:
            data = bundle.path.read_bytes()
        except OSError as e:
            outcomes[place] = ReverifyOutcome(bundle.digest, bundle.outcome, "could-not-verify",
                                              f"cannot read {bundle.path}: {e.strerror or e}", bundle.entry_number)
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != bundle.digest:
            outcomes[place] = ReverifyOutcome(
                bundle.digest, bundle.outcome, "not-verified",
                f"the archived file was altered (it no longer hashes to its name: it holds {digest[:16]}); "
                "run 'archive check'", bundle.entry_number)
            continue
        items.append(data if as_bytes else bundle.path)
        digests.append(digest)
        places.append(place)
    for place, outcome in zip(places, reverify(items, check, digests=digests, **options)):
        outcomes[place] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _check_address(address: str | None, security: Any, insecure: bool) -> None:
    if address is None:
        if security is not None:
            raise ValueError("security is for a remote scheduler (address): the local cluster makes its own")
        return
    scheme, sep, _ = address.partition("://")
    if sep and scheme == "tls":
        if security is None:
            raise ValueError(f"the scheduler {address} needs the cluster's CA and a client certificate: give "
                             "security=cluster_security(...)")
    elif sep and scheme == "tcp":
        if not insecure:
            raise ValueError(f"refusing the scheduler {address}: tcp:// is neither encrypted nor authenticated, so "
                             "whoever can reach it can run code on its workers and forge their outcomes; use tls:// "
                             "with certificates (or insecure=True on a network only you can reach)")
    else:
        raise ValueError(f"a Dask scheduler address is tls://HOST:PORT (or tcp:// with insecure=True), not {address!r}")


def _distributed(module: str = "distributed") -> Any:
    try:  # typed as Any: distributed's functions are not annotated
        return importlib.import_module(module)
    except ImportError:
        raise ReverifyError("re-verifying on a Dask cluster needs Dask distributed: "
                            "pip install 'tradevc[cluster]'") from None


def cluster_security(ca_file: str | os.PathLike[str] | None = None, cert_file: str | os.PathLike[str] | None = None,
                     key_file: str | os.PathLike[str] | None = None) -> Any:
    """The ``distributed.security.Security`` that reaches a ``tls://`` Dask scheduler: the CA
    that signed the cluster's certificates (``ca_file``, PEM), and this client's certificate
    (``cert_file``) and key (``key_file``, if not in the certificate's file); encryption
    required. Without files, Dask's own configuration gives them
    (``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert`` and ``.key``, in
    Dask's YAML or ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE``...).

    :raises ValueError: a file missing or unreadable, a CA without a certificate or the reverse,
        or neither given nor configured.
    :raises ReverifyError: Dask distributed is not installed."""
    module = _distributed("distributed.security")
    if ca_file is None and cert_file is None and key_file is None:
        security = module.Security(require_encryption=True)
        if not security.tls_ca_file or not security.tls_client_cert:
            raise ValueError("a tls:// scheduler needs the cluster's CA and a client certificate: give the CA, "
                             "certificate and key files, or set distributed.comm.tls.ca-file and "
                             "distributed.comm.tls.client.cert (and .key) in Dask's configuration")
        return security
    if ca_file is None or cert_file is None:
        raise ValueError("a tls:// scheduler needs both the cluster's CA and a client certificate (and its key)")
    for name in (ca_file, cert_file, key_file):
        if name is not None:
            try:
                with open(name, "rb"):
                    pass
            except OSError as e:
                raise ValueError(f"cannot read {os.fspath(name)}: {e.strerror or e}") from None
    files = {"tls_ca_file": os.fspath(ca_file), "tls_client_cert": os.fspath(cert_file)}
    if key_file is not None:
        files["tls_client_key"] = os.fspath(key_file)
    return module.Security(require_encryption=True, **files)


_HEALTH_ONLY = {"distributed.scheduler.http.routes": ["distributed.http.health"],
                "distributed.worker.http.routes": ["distributed.http.health"]}
"""The local cluster's scheduler and workers still listen for HTTP on 127.0.0.1, in clear and
for anyone: they answer ``/health`` only, not Dask's pages of workers, tasks, logs and metrics."""


def _on_dask(items: list[Item], check: Callable[[bytes], ReverifyOutcome], *, workers: int | None,
             address: str | None, timeout: float, chunk_size: int | None, security: Any) -> list[ReverifyOutcome]:
    distributed = _distributed()
    cluster = None
    try:
        if address is None:  # TLS both ways, with a CA and certificate that live as long as the call
            security = _distributed("distributed.security").Security.temporary()
            with _distributed("dask").config.set(_HEALTH_ONLY):
                cluster = distributed.LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                                   host="127.0.0.1", dashboard_address=None, protocol="tls",
                                                   security=security)
            client = distributed.Client(cluster, security=security)
        else:
            client = distributed.Client(address, timeout=timeout, security=security)
    except Exception as e:  # noqa: BLE001  (OSError, TimeoutError, or whatever distributed raises)
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler {address}" if address else "a local Dask cluster"
        raise ReverifyError(f"cannot reach {where}: {e}; check the address, the certificates and that the "
                            "scheduler runs") from None
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
