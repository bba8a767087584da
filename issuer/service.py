"""``Issuer``: the issuing desk behind ``vc-issuer``. It wires the issuer home (profile and
keys), the status registry and the trade credential types to the signing library."""

from __future__ import annotations

import copy
import json
import os
import shlex
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence, overload
from urllib.parse import urlsplit

from tradevc.vc.atomicfile import write_atomic
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.securing.jws import refuse_contexts
from tradevc.vc.jsonld import DocumentLoader, PinnedContextLoader, check_context_use, default_loader
from tradevc.vc.model import parse_credential, parse_datetime
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import format_datetime, inline_coverage
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.vc.status import HISTORY_INDEX_TYPE, BitstringStatusList, history_index_url, history_version_url
from tradevc.vc.verification import DEFAULT_CLOCK_SKEW

from .credential_types import add_related_resources, attach_schema, build_credential, check_credential, derived_from_entries
from .errors import IssuerError
from .home import IssuerHome
from .registry import HistoryRefused, IssuedRecord, ListSummary, ListVersion, Publication, StatusEntry, StatusRegistry

__all__ = ["Issuer", "StatusListState", "status_list_states", "expiry_warning", "issuing_warnings"]

REGISTRY_FILE = "registry.sqlite"
DEFAULT_LIST_VALIDITY = timedelta(days=30)
STATUS_EXPIRY_WARNING = timedelta(days=7)  # warn when a published status list runs out this soon
ISSUE_CLOCK_SKEW = DEFAULT_CLOCK_SKEW  # a validFrom further ahead than this, verifiers refuse now
DEFAULT_TTL_MS = 24 * 3600 * 1000  # verifiers may cache a list for a day


class Issuer:
    """An issuer, opened on its home directory with its key passphrase.

    One ``Issuer`` may be shared by the threads of a process (a service's request threads):
    its registry takes turns on one SQLite connection (see :mod:`tradevc.issuer.registry`), the
    key is unsealed for each credential and signing holds no state, and its context loader is
    safe for threads. Each process (a service's worker) opens its own ``Issuer`` on the home;
    processes take turns at the registry as ``vc-issuer`` runs do.

    >>> # issuer = Issuer.open("~/.tradevc/issuer", passphrase=b"...")
    >>> # signed = issuer.issue(subject, type_name="USMCACertificationOfOrigin", valid_until="2026-12-31T23:59:59Z")
    """

    def __init__(
        self, home: IssuerHome, passphrase: bytes, *, loader: DocumentLoader | None = None,
        contexts: str | os.PathLike[str] | None = None,
    ) -> None:
        """``loader`` serves the JSON-LD contexts credentials may use (default: the pinned ones);
        or ``contexts``, a folder of contexts pinned in addition to them (see
        :meth:`tradevc.vc.jsonld.PinnedContextLoader.with_user_contexts`).

        :raises ContextIndexError: the ``contexts`` folder cannot be used.
        :raises ValueError: both ``loader`` and ``contexts`` are given.
        """
        if loader is not None and contexts is not None:
            raise ValueError("give the Issuer a loader or a contexts folder, not both")
        self.home = home
        self._passphrase = passphrase
        self._loader = PinnedContextLoader.with_user_contexts(contexts) if contexts is not None else (
            loader or default_loader()
        )
        self.registry = StatusRegistry(home.path / REGISTRY_FILE, base_url=home.profile.status_base_url)
        self._publishing = threading.Lock()  # one publication at a time: each is the next version of the lists
        self._sealed_documents: dict[tuple[str, int, int], dict[str, Any]] = {}
        """The sealed versions read so far (they never change), so each is parsed once; the
        documents returned for them are these objects, shared: not to be changed."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: bytes, **kw: Any) -> "Issuer":
        """Open the issuer home at ``path``; the passphrase is checked on the current key.

        :raises IssuerError: no issuer there. :raises KeyMaterialError: wrong passphrase.
        """
        home = IssuerHome.open(path)
        home.signing_key(passphrase)
        return cls(home, passphrase, **kw)

    @classmethod
    def init(cls, path: str | os.PathLike[str], passphrase: bytes, **profile: Any) -> "Issuer":
        """Create an issuer home (see :meth:`IssuerHome.create` for the profile arguments)."""
        return cls(IssuerHome.create(path, passphrase=passphrase, **profile), passphrase)

    def close(self) -> None:
        self.registry.close()

    def __enter__(self) -> "Issuer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def did(self) -> str:
        return self.home.profile.did

    # -- issuing -----------------------------------------------------------------------------

    @overload
    def issue(
        self, credential_or_subject: Mapping[str, Any], *, type_name: str | None = ..., valid_from: str | None = ...,
        valid_until: str | None = ..., credential_id: str | None = ..., revocable: bool = ..., suspendable: bool = ...,
        cryptosuite: str | None = ..., securing: Literal["data-integrity"] = ...,
        derived_from: Sequence[Mapping[str, Any] | str] = ...,
        deliver: Callable[[dict[str, Any]], None] | None = ...,
    ) -> dict[str, Any]: ...

    @overload
    def issue(
        self, credential_or_subject: Mapping[str, Any], *, type_name: str | None = ..., valid_from: str | None = ...,
        valid_until: str | None = ..., credential_id: str | None = ..., revocable: bool = ..., suspendable: bool = ...,
        cryptosuite: str | None = ..., securing: Literal["jose"],
        derived_from: Sequence[Mapping[str, Any] | str] = ...,
        deliver: Callable[[str], None] | None = ...,
    ) -> str: ...

    @overload
    def issue(
        self, credential_or_subject: Mapping[str, Any], *, type_name: str | None = ..., valid_from: str | None = ...,
        valid_until: str | None = ..., credential_id: str | None = ..., revocable: bool = ..., suspendable: bool = ...,
        cryptosuite: str | None = ..., securing: str,
        derived_from: Sequence[Mapping[str, Any] | str] = ...,
        deliver: Callable[[Any], None] | None = ...,
    ) -> dict[str, Any] | str: ...

    def issue(
        self,
        credential_or_subject: Mapping[str, Any],
        *,
        type_name: str | None = None,
        valid_from: str | None = None,
        valid_until: str | None = None,
        credential_id: str | None = None,
        revocable: bool = True,
        suspendable: bool = True,
        cryptosuite: str | None = None,
        securing: str = "data-integrity",
        derived_from: Sequence[Mapping[str, Any] | str] = (),
        deliver: Callable[[Any], None] | None = None,
    ) -> dict[str, Any] | str:
        """Issue a credential and return it signed.

        ``securing`` is ``"data-integrity"`` (the credential with a proof, a dict) or ``"jose"``
        (a VC-JOSE-COSE ``vc+jwt`` compact JWS, a str, signed with the algorithm of the
        issuer's key type; ``cryptosuite`` does not apply).

        Pass either a whole unsigned credential (it has ``credentialSubject``; its issuer, if
        given, must be this issuer) or a subject with ``type_name``, from which the credential
        is built. Known trade types are checked against their schema first, and a VC 2.0
        credential of such a type gets its schema's ``credentialSchema`` entry unless it names
        one already. If the issuer
        publishes status lists, the credential gets a revocation and a suspension entry (each
        can be switched off), recorded before it is signed.

        ``derived_from`` lists the signed credentials this one derives from (a mill test report's
        heats, an earlier transformation event), as JSON objects or ``vc+jwt`` compact tokens:
        each becomes a ``relatedResource`` entry with its id, ``mediaType`` and a SHA-384
        ``digestSRI`` of its RFC 8785 (JCS) form or of the token's bytes
        (:func:`tradevc.vc.checks.supply.related_resource`, where the choice is explained), so
        that the border's supply-path walk can tell the input it holds is the one meant.

        Nothing is recorded for a credential that is refused: it is checked, and signed once
        with its status entries in placeholder form (a dry run through the signer's own
        checks), before its id and status indexes are reserved. Numbers outside I-JSON (NaN,
        Infinity, integers beyond 2**53 - 1) are refused by the signers (``PARSING_ERROR``), whatever
        the securing.

        :raises InvalidDocument: the credential or subject is malformed (every problem listed).
        :raises IssuerError: the id was used before, or the issuer field names someone else.
        :raises DataLossError, ContextNotPinned, ProtectedTermRedefinition: a context a verifier
            would refuse, or a term it leaves undefined, its status entries' included (checked
            before the id is reserved, so a refused credential's id can be issued again).
        :raises InvalidDocument: also for a number outside I-JSON, or a credential the
            cryptosuite cannot canonicalize (checked before the id is reserved too).
        :raises UnsupportedError: an unknown cryptosuite.
        :raises KeyMaterialError: from signing.
        :raises ValueError: an unknown ``securing``.
        :raises InvalidDocument: also for an input in ``derived_from`` that is not a credential
            with an id, or that the credential already lists with another digest.

        ``deliver``, if given, is called with the signed credential before it is recorded as
        issued (``vc-issuer`` writes the output file there). If it raises, the reservation is
        released (:meth:`StatusRegistry.release`) and the exception propagates: the registry
        lists only what was handed out.
        """
        if securing not in ("data-integrity", "jose"):
            raise ValueError(f"securing must be 'data-integrity' or 'jose', not {securing!r}")
        related = derived_from_entries(derived_from)
        profile = self.home.profile
        issuer_field: Any = {"id": profile.did, "name": profile.name}
        if "credentialSubject" in credential_or_subject:
            credential = copy.deepcopy(dict(credential_or_subject))
            given = credential.get("issuer")
            given_id = given.get("id") if isinstance(given, Mapping) else given
            if given is None:
                credential["issuer"] = issuer_field
            elif given_id != profile.did:
                raise IssuerError(f"the credential names issuer {given_id!r}, but this issuer is {profile.did}")
            if credential_id is not None:
                credential["id"] = credential_id
            credential.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
            if valid_from is not None:
                credential["validFrom"] = valid_from
            if valid_until is not None:
                credential["validUntil"] = valid_until
            credential.setdefault("validFrom", format_datetime(datetime.now(timezone.utc)))
            attach_schema(credential)
            check_credential(credential)
        else:
            if not type_name:
                raise IssuerError("a credential subject needs a credential type (--type)")
            credential = build_credential(
                type_name, credential_or_subject, issuer=issuer_field, valid_from=valid_from,
                valid_until=valid_until, credential_id=credential_id,
            )
        if related:
            credential = add_related_resources(credential, related)
            check_credential(credential)
        parsed = parse_credential(credential)
        if parsed.credentialStatus is not None:
            raise IssuerError("credentialStatus is assigned by the issuer's registry; remove it from the input")
        suite = cryptosuite or profile.default_cryptosuite
        if securing == "jose":  # refuse the contexts a verifier refuses before anything is signed
            refuse_contexts(credential, self._loader)
        else:
            covered_by, not_covered = inline_coverage([], adding=get_suite(suite))
            check_context_use(
                credential, self._loader, covered_by=covered_by, not_covered=not_covered, refuse_data_loss=True
            )
        purposes = [p for p, on in (("revocation", revocable), ("suspension", suspendable)) if on]
        if profile.status_base_url is None:
            purposes = []
        key, method = self.home.signing_key(self._passphrase)

        def sign(document: dict[str, Any]) -> dict[str, Any] | str:
            if securing == "jose":
                return sign_credential_jwt(document, key, verification_method=method, loader=self._loader)
            return sign_credential(document, key, cryptosuite=suite, verification_method=method, loader=self._loader)

        if purposes:
            # Dry run: sign the credential with its status entries in placeholder form (same
            # shape, index 0 of list 1), so every check of the signer (contexts, data loss,
            # canonicalization) refuses it before an index is reserved.
            trial = copy.deepcopy(credential)
            trial["credentialStatus"] = [
                StatusEntry(p, self.registry.list_url(p, 1), 0).to_json() for p in purposes
            ]
            sign(trial)
            entries = self.registry.reserve(credential["id"], parsed.types, purposes)
            credential["credentialStatus"] = [e.to_json() for e in entries]
            signed = sign(credential)
        else:  # no index to reserve: sign first, then record the id (a refusal records nothing)
            signed = sign(credential)
            self.registry.reserve(credential["id"], parsed.types, [])
        if deliver is not None:
            try:
                deliver(signed)
            except BaseException:
                self.registry.release(credential["id"])
                raise
        self.registry.mark_issued(credential["id"], signed, valid_until=credential.get("validUntil"))
        return signed

    # -- status ------------------------------------------------------------------------------

    def revoke(self, credential_id: str) -> bool:
        """Revoke (permanent). False if it already was. :raises IssuerError: see registry."""
        return self.registry.revoke(credential_id)

    def suspend(self, credential_id: str) -> bool:
        return self.registry.suspend(credential_id)

    def reinstate(self, credential_id: str) -> bool:
        return self.registry.reinstate(credential_id)

    def issued(self) -> list[IssuedRecord]:
        return self.registry.records()

    # -- publishing --------------------------------------------------------------------------

    def status_list_credentials(
        self, *, valid_for: timedelta = DEFAULT_LIST_VALIDITY, now: datetime | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """Every status list as a signed ``BitstringStatusListCredential``: ``(url, credential)``."""
        return [(url, credential) for url, credential, _ in self._signed_lists(valid_for, now)]

    def _signed_lists(
        self, valid_for: timedelta, now: datetime | None
    ) -> list[tuple[str, dict[str, Any], ListSummary]]:
        now = now or datetime.now(timezone.utc)
        out = []
        for summary in self.registry.summaries():
            bits = BitstringStatusList(summary.length)
            for index in summary.set_bits:
                bits.set(index, 1)
            signed = self._list_credential(
                summary.url, summary.purpose, bits.encode(), valid_from=format_datetime(now),
                valid_until=format_datetime(now + valid_for), created=now,
            )
            out.append((summary.url, signed, summary))
        return out

    def _list_credential(
        self, url: str, purpose: str, encoded_list: str, *, valid_from: str, valid_until: str, created: datetime
    ) -> dict[str, Any]:
        """A signed ``BitstringStatusListCredential`` for the list at ``url``: the current one,
        or a past version (same id: it is the list at ``url`` as it was from ``valid_from``
        until ``valid_until``)."""
        key, method = self.home.signing_key(self._passphrase)
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.did,
            "validFrom": valid_from,
            "validUntil": valid_until,
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": encoded_list,
                "ttl": DEFAULT_TTL_MS,
            },
        }
        return sign_credential(
            credential, key, cryptosuite=self.home.profile.default_cryptosuite, verification_method=method,
            created=created, loader=self._loader,
        )

    def publish(
        self, out_dir: str | os.PathLike[str], *, valid_for: timedelta = DEFAULT_LIST_VALIDITY,
        now: datetime | None = None,
    ) -> list[Path]:
        """Write what the issuer's website serves, laid out as served: ``did.json`` (did:web),
        one signed status list credential per list at its URL's path, and each list's history
        beside it (``<list path>.history/``: every version published, and ``index.json``; see
        :mod:`tradevc.vc.status`). Each file is replaced atomically, so a crash never leaves a
        half-written list online. Once all are written, the registry records what was
        published (see :meth:`status_lists`).

        Every publication is a new version of each list, kept in the registry (its bits, its
        period). The version it supersedes is signed once more, with ``validUntil`` set to
        when the new one takes effect, and kept as it is from then on: a verifier can check a
        credential's status as of a past moment against the version then in effect, years
        later. History files are written from the registry, so a new (or restored) site
        folder gets them all.

        ``now`` (default: the current time) is when the lists are valid from; they are valid
        until ``now + valid_for``.

        :raises HistoryRefused: ``now`` is before the last version published (the history
            cannot be rewritten).
        :raises OSError: the directory cannot be written.
        """
        now = now or datetime.now(timezone.utc)
        root = Path(out_dir)
        with self._publishing:
            documents, lists = self._site(valid_for, now)
            written = []
            for relative, document in documents.items():
                if ".history/" in relative:
                    written.extend(self._write_if_changed(root, relative, document))
                else:
                    written.append(self._write(root, relative, document))
            self.registry.record_publication([
                Publication(
                    purpose=summary.purpose, seq=summary.seq, url=url, valid_from=credential["validFrom"],
                    valid_until=credential["validUntil"], published_at=format_datetime(now),
                    out_dir=str(root.resolve()), bits_sha256=summary.bits_sha256,
                )
                for url, credential, summary in lists
            ])
        return written

    def site_documents(
        self, *, valid_for: timedelta = DEFAULT_LIST_VALIDITY, now: datetime | None = None,
        renew_after: timedelta | None = None,
    ) -> dict[str, dict[str, Any]]:
        """What :meth:`publish` writes, as documents by their path below the site's root
        (``.well-known/did.json``, ``status/revocation/1``, ``status/revocation/1.history/index.json``,
        ...), for a server that holds the site in memory. Like ``publish`` it records a new
        version of each list (the history), but records no publication to a folder.

        ``renew_after`` is for a server that signs its lists again by itself, perhaps in
        several processes at once: a list gets a new version only if its bits changed since its
        last version, or that version started ``renew_after`` ago or more. Otherwise the last
        version is served, signed again as it was signed when it took effect (its period, and
        that moment as the proof's ``created``), so every process serves the same version and
        one change makes one version, however many processes sign it.

        :raises HistoryRefused: ``now`` is before the last version published."""
        now = now or datetime.now(timezone.utc)
        with self._publishing:
            for attempt in range(3):
                try:
                    documents, _ = self._site(valid_for, now, renew_after)
                    break
                except HistoryRefused:
                    # another process recorded a version of a list meanwhile: sign from it
                    if renew_after is None or attempt == 2:
                        raise
        return documents

    def _site(
        self, valid_for: timedelta, now: datetime, renew_after: timedelta | None = None,
    ) -> tuple[dict[str, dict[str, Any]], list[tuple[str, dict[str, Any], ListSummary]]]:
        lists = self._signed_lists(valid_for, now)
        kept = self._record_versions(lists, now, renew_after)
        if kept:
            last = {(v.purpose, v.seq): v for v in self.registry.versions()}
            lists = [
                (url, self._list_credential(
                    url, v.purpose, v.encoded_list, valid_from=v.valid_from, valid_until=v.signed_until,
                    created=parse_datetime(v.valid_from),
                ), summary) if (v := last.get((summary.purpose, summary.seq))) is not None
                and (v.purpose, v.seq) in kept else (url, credential, summary)
                for url, credential, summary in lists
            ]
        documents: dict[str, dict[str, Any]] = {}
        did_path = self.home.did_document_path()
        if did_path is not None:
            documents[did_path] = self.home.did_document()
        for url, credential, _ in lists:
            documents[urlsplit(url).path.lstrip("/")] = credential
        documents.update(self._history_documents({url: credential for url, credential, _ in lists}))
        return documents, lists

    def _record_versions(
        self, lists: Sequence[tuple[str, dict[str, Any], ListSummary]], now: datetime,
        renew_after: timedelta | None = None,
    ) -> set[tuple[str, int]]:
        """Record each list just signed as its next version, and seal the one it supersedes;
        with ``renew_after``, not the lists whose last version still holds (see
        :meth:`site_documents`), which are returned as ``(purpose, seq)``."""
        last: dict[tuple[str, int], ListVersion] = {}
        for v in self.registry.versions():
            last[(v.purpose, v.seq)] = v
        new, sealed = [], []
        kept: set[tuple[str, int]] = set()
        for url, credential, summary in lists:
            before = last.get((summary.purpose, summary.seq))
            if (renew_after is not None and before is not None and before.bits_sha256 == summary.bits_sha256
                    and now - parse_datetime(before.valid_from) < renew_after):
                kept.add((summary.purpose, summary.seq))  # (checked again as it is recorded: see the registry)
                continue
            if before is not None and now < parse_datetime(before.valid_from):
                raise HistoryRefused(
                    f"cannot publish lists valid from {format_datetime(now)}: version {before.version} of "
                    f"{url} was published valid from {before.valid_from}, and the history cannot be rewritten"
                )
            if before is not None and before.sealed is None:
                final = self._list_credential(
                    url, before.purpose, before.encoded_list, valid_from=before.valid_from,
                    valid_until=credential["validFrom"], created=now,
                )
                sealed.append((ListVersion(
                    before.purpose, before.seq, before.version, before.valid_from, before.signed_until,
                    before.published_at, before.length, before.encoded_list, before.bits_sha256,
                    superseded_at=credential["validFrom"],
                ), json.dumps(final, ensure_ascii=False)))
            new.append(ListVersion(
                summary.purpose, summary.seq, 1 if before is None else before.version + 1, credential["validFrom"],
                credential["validUntil"], format_datetime(now), summary.length,
                credential["credentialSubject"]["encodedList"], summary.bits_sha256,
            ))
        return kept | self.registry.record_versions(new, sealed, renew_after=renew_after)

    def _history_documents(self, current: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Every version of every list (from the registry) and each list's index, by path."""
        by_list: dict[str, list[ListVersion]] = {}
        for v in self.registry.versions():
            by_list.setdefault(self.registry.list_url(v.purpose, v.seq), []).append(v)
        out: dict[str, dict[str, Any]] = {}
        for url, versions in by_list.items():
            index_url = history_index_url(url)
            if index_url is None:
                continue
            entries = []
            for v in versions:
                document: dict[str, Any] | None = current.get(url) if v is versions[-1] else None
                if v.sealed is not None:
                    document = self._sealed_documents.get((v.purpose, v.seq, v.version))
                    if document is None:
                        document = self._sealed_documents[(v.purpose, v.seq, v.version)] = json.loads(v.sealed)
                if document is None:  # (a version neither sealed nor current: never, as publish works)
                    continue
                version_url = history_version_url(url, v.version)
                out[urlsplit(version_url).path.lstrip("/")] = document
                entries.append({
                    "version": v.version, "validFrom": v.valid_from, "validUntil": v.valid_until, "url": version_url,
                })
            out[urlsplit(index_url).path.lstrip("/")] = {
                "type": HISTORY_INDEX_TYPE, "statusListCredential": url, "statusPurpose": versions[0].purpose,
                "versions": entries,
            }
        return out

    def _write_if_changed(self, root: Path, relative: str, document: Mapping[str, Any]) -> list[Path]:
        target = root / relative
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                return []
        except OSError:
            pass
        return [self._write(root, relative, document)]

    def history(self) -> list[ListVersion]:
        """Every published version of every status list (see :meth:`publish`)."""
        return self.registry.versions()

    def status_lists(self) -> list["StatusListState"]:
        """Each status list with what was last published of it (see :func:`status_list_states`)."""
        return status_list_states(self.registry)

    @staticmethod
    def _write(root: Path, relative: str, document: Mapping[str, Any]) -> Path:
        target = (root / relative).resolve()
        if root.resolve() not in target.parents:
            raise IssuerError(f"refusing to write outside {root}: {relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), mode=0o644)
        return target




# -- the freshness of published status lists --------------------------------------------------------


@dataclass(frozen=True)
class StatusListState:
    """A status list as the registry holds it, and what ``publish`` last wrote of it."""

    summary: ListSummary
    published: Publication | None  # None: never published

    @property
    def changed(self) -> bool:
        """Bits were set or cleared (revoke, suspend, reinstate) since it was published."""
        return self.published is not None and self.published.bits_sha256 != self.summary.bits_sha256

    def valid_until(self) -> datetime | None:
        return None if self.published is None else parse_datetime(self.published.valid_until)

    def state(self, now: datetime) -> str:
        """``never-published``, ``expired``, ``expiring`` (within :data:`STATUS_EXPIRY_WARNING`)
        or ``valid``."""
        until = self.valid_until()
        if until is None:
            return "never-published"
        if until <= now:
            return "expired"
        return "expiring" if until - now <= STATUS_EXPIRY_WARNING else "valid"

    def describe(self, now: datetime) -> str:
        """``expires in N days``, ``EXPIRED N days ago`` or ``never published``, and whether it
        changed since."""
        until = self.valid_until()
        if until is None:
            return "never published"
        text = f"expires in {_span(until - now)}" if until > now else f"EXPIRED {_span(now - until)} ago"
        if self.changed:
            text += "; changed since last publish (revoke/suspend not yet published)"
        return text


def _span(delta: timedelta) -> str:
    """A duration in whole days, rounded (in hours below a day)."""
    seconds = delta.total_seconds()
    if seconds >= 86400:
        days = round(seconds / 86400)
        return f"{days} day" + ("s" if days != 1 else "")
    hours = max(1, round(seconds / 3600))
    return f"{hours} hour" + ("s" if hours != 1 else "")


def status_list_states(registry: StatusRegistry) -> list[StatusListState]:
    """Every status list of ``registry`` with what was last published of it."""
    published = registry.publications()
    return [StatusListState(s, published.get((s.purpose, s.seq))) for s in registry.summaries()]


def expiry_warning(states: Sequence[StatusListState], now: datetime) -> str | None:
    """One line (without ``warning:``) when a published list expires within
    :data:`STATUS_EXPIRY_WARNING` of ``now`` or has expired, about the one that runs out
    first; None otherwise (lists never published are left to ``vc-issuer status``)."""
    published = [s for s in states if s.published is not None]
    if not published:
        return None
    first = min(published, key=lambda s: s.valid_until() or now)
    until = first.valid_until()
    assert first.published is not None and until is not None
    if until - now > STATUS_EXPIRY_WARNING:
        return None
    when = first.published.published_at[:10]
    if until > now:
        how = f"expire in {_span(until - now)} ({first.published.valid_until})"
    else:
        how = f"EXPIRED {_span(now - until)} ago ({first.published.valid_until}): verifiers cannot check " \
              "this issuer's credentials"
    command = f"vc-issuer publish --out-dir {shlex.quote(first.published.out_dir)}"
    quoted = f'"{command}"' if "'" in command else f"'{command}'"
    return f"status lists published {when} {how}; run {quoted} and upload"


# -- warnings when issuing ----------------------------------------------------------------------------


def issuing_warnings(
    issuer_did: str, signed: Mapping[str, Any] | str, *, status_base_url: str | None, now: datetime,
    skew: timedelta = ISSUE_CLOCK_SKEW,
) -> list[str]:
    """What is wrong, though not refused, with a credential just issued (each without
    ``warning:``): it is already expired, it is not valid yet (its start further ahead of
    ``now`` than ``skew``, beyond which verifiers refuse it), or a did:key or did:jwk issuer
    gave it no revocation entry (such an issuer has no other way to withdraw it: no key to
    rotate or remove)."""
    document = parse_compact_jws(signed).payload if isinstance(signed, str) else signed
    credential = parse_credential(document)
    out = []
    start, end = credential.validity_strings
    if end is not None and parse_datetime(end) < now:
        out.append(f"the credential is already expired: it was valid until {end}; verifiers will refuse it")
    elif start is not None and parse_datetime(start) > now + skew:
        out.append(f"the credential is not valid yet: it is valid from {start}; verifiers refuse it until then")
    if issuer_did.startswith(("did:key:", "did:jwk:")):
        entries = credential.credentialStatus
        entries = entries if isinstance(entries, list) else [] if entries is None else [entries]
        purposes = {e.get("statusPurpose") for e in entries if isinstance(e, Mapping)}
        if status_base_url is None:
            out.append(
                f"this credential cannot be revoked or suspended: this did:{issuer_did.split(':')[1]} issuer has no "
                "status base URL, so its credentials carry no status entry; give --status-base-url at init "
                "(did:web issuers publish status lists on their site)"
            )
        elif "revocation" not in purposes:
            what = "revoked" if "suspension" in purposes else "revoked or suspended"
            out.append(
                f"this credential cannot be {what}: --no-revocation was given, and a did:{issuer_did.split(':')[1]} "
                "issuer cannot withdraw it otherwise (its DID is its key); leave out --no-revocation to make it "
                "revocable"
            )
    return out
