"""``Wallet``: the importer's credentials and holder key, encrypted at rest.

The wallet checks what it keeps: :meth:`Wallet.add` verifies a credential (signature, issuer
key, validity period, revocation and suspension) before storing it, :meth:`Wallet.import_backup`
and :meth:`Wallet.restore` verify each credential of a backup the same way (and report those
they refuse), and :meth:`Wallet.check` re-verifies everything held and says what changed. Which issuers to trust is the verifier's
decision, not the holder's, so the wallet's own checks leave ``issuer_trust`` to customs
unless a trust policy is given.

Every change is a locked read-modify-write of the wallet file (:mod:`tradevc.wallet.store`): the file
is read again under the lock, so two processes adding credentials at once both keep theirs.

The wallet also holds *anchors*: the credentials in which a registrar, an accreditation body or a
licensing authority vouches for another party (:func:`tradevc.vc.checks.vouches.read_vouch`),
usually for an issuer of the importer's credentials, not for the importer. They are verified and
kept like any credential; :meth:`Wallet.present` adds, to each presentation, the held anchors
that vouch for the issuers of what is presented, following their chain (:meth:`Wallet.anchors_for`),
so that customs can trust an issuer through the party that vouches for it.

Before presenting, ``vc-wallet present`` verifies the chosen credentials again
(:meth:`Wallet.recheck`) and the anchors it would add (:meth:`Wallet.recheck_anchors`);
:meth:`Wallet.present` and :meth:`Wallet.present_jwt` (a ``vp+jwt``) sign what they are given.
A customs broker's wallet adds the importer's power of attorney (:meth:`Wallet.powers_for`).
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

import rfc8785

from tradevc.vc.atomicfile import write_atomic
from tradevc.vc.retrieval.did.jwk import did_jwk
from tradevc.vc.securing.enveloped import envelope_credential, is_enveloped
from tradevc.vc.securing.jose import VC_TYP, credential_of, sign_presentation_jwt, token_type
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.vc.checks.vouches import Vouch, VouchError, read_vouch
from tradevc.vc.errors import InvalidDocument, KeyMaterialError, VcError
from tradevc.vc.jsonld import DocumentLoader
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import parse_credential
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.vc.securing.proofs.data_integrity import format_datetime
from tradevc.vc.report import CheckResult, VerificationResult
from tradevc.vc.sealed import default_kdf
from tradevc.verifier import Verifier

from .errors import WalletCorrupted, WalletError
from .store import KdfParams, WalletFile, new_key, normalize_passphrase, refuse_existing, seal, unseal

__all__ = [
    "Wallet", "HeldCredential", "CredentialRefused", "CheckChange", "HolderPolicy", "WALLET_FILE", "status_of",
    "AddedAnchor", "SkippedAnchor", "AnchorSelection", "describe_vouch", "MAX_ANCHOR_DEPTH", "MAX_ANCHORS",
    "PowerSelection", "POWER_OF_ATTORNEY_TYPES",
]

WALLET_FILE = "wallet.vcw"
CONTENT_VERSION = 1
DEFAULT_HOLDER_SUITE = "eddsa-jcs-2022"
MAX_ANCHOR_DEPTH = 4  # links of a chain of anchors followed from a presented credential
MAX_ANCHORS = 16  # anchors added to one presentation
POWER_OF_ATTORNEY_TYPES = ("PowerOfAttorneyCredential", "CustomsPowerOfAttorneyCredential")
"""The types of a customs power of attorney, as the verifier's entry rules read them."""
_IMPORTER_FIELDS = ("importerDetails", "importer", "importerOfRecord")  # where trade documents name the importer
HOLDER_SUITES = {"Ed25519": ("eddsa-jcs-2022", "eddsa-rdfc-2022"), "P-256": ("ecdsa-jcs-2019", "ecdsa-rdfc-2019"),
                 "P-384": ("ecdsa-jcs-2019", "ecdsa-rdfc-2019")}

_T = TypeVar("_T")


class HolderPolicy:
    """The wallet's own trust stance: it does not decide which issuers customs trusts, so the
    ``issuer_trust`` check is skipped (and says why) rather than passed."""

    warning: str | None = None

    def check(self, credential: Any) -> CheckResult:
        return CheckResult.skipped("issuer_trust", "left to the verifier: a wallet does not decide which issuers to trust")


class CredentialRefused(WalletError):
    """:meth:`Wallet.add` refused a credential; ``result`` is the verification report."""

    code = "CREDENTIAL_REFUSED"

    def __init__(self, message: str, result: VerificationResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def status_of(result: VerificationResult) -> str:
    """One word (and a reason) for a credential's state in a report: ``valid``, ``REVOKED``,
    ``SUSPENDED``, ``EXPIRED``, ``NOT YET VALID``, ``INVALID (check)``, ``UNCHECKED (check)``."""
    if result.verified:
        return "valid"
    for check in result.failures:
        if check.name == "revocation":
            return "REVOKED"
        if check.name == "suspension":
            return "SUSPENDED"
        if check.name == "validity_period":
            return "NOT YET VALID" if "not valid until" in check.message else "EXPIRED"
    if result.failures:
        return f"INVALID ({result.failures[0].name})"
    errors = result.errors
    return f"UNCHECKED ({errors[0].name})" if errors else "UNCHECKED"


def problem_of(result: VerificationResult) -> str:
    """The first failed or erring check, as one line."""
    for check in result.failures + result.errors:
        return f"{check.name}: {check.message}"
    return "no check passed"


@dataclass(frozen=True)
class HeldCredential:
    """A credential in the wallet and what the wallet last learned about it."""

    id: str
    types: tuple[str, ...]
    issuer: str
    valid_until: str | None
    added: str
    checked: str
    status: str
    credential: Any  # a JSON object, or the compact JWS of a JOSE-secured credential

    @property
    def type(self) -> str:
        """The most specific type (the first one that is not ``VerifiableCredential``)."""
        return next((t for t in self.types if t != "VerifiableCredential"), "VerifiableCredential")

    @classmethod
    def _from_record(cls, record: Mapping[str, Any]) -> "HeldCredential":
        try:
            return cls(
                id=record["id"], types=tuple(record["types"]), issuer=record["issuer"],
                valid_until=record.get("validUntil"), added=record["added"], checked=record["lastCheck"]["at"],
                status=record["lastCheck"]["status"], credential=record["credential"],
            )
        except (KeyError, TypeError) as e:
            raise WalletCorrupted(f"a credential record in the wallet is incomplete: {e}") from e

    @cached_property
    def _vouch_reading(self) -> tuple[Vouch | None, str | None]:
        return _read_held_vouch(self.credential)

    @property
    def vouch(self) -> Vouch | None:
        """What this credential vouches for, if it is an anchor (an identity anchor, an
        accreditation, a licence or an IP authorisation that reads as one); else None."""
        return self._vouch_reading[0]

    @property
    def vouch_problem(self) -> str | None:
        """Why a credential of a vouch type cannot serve as an anchor (its subject does not read
        as a vouch: see :class:`tradevc.vc.checks.vouches.VouchError`); None otherwise."""
        return self._vouch_reading[1]

    @property
    def kind(self) -> str:
        """``anchor``, ``accreditation``, ``licence`` or ``ip`` for an anchor (see :attr:`vouch`),
        else ``credential``."""
        return self.vouch.kind if self.vouch is not None else "credential"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "types": list(self.types), "issuer": self.issuer,
            "validUntil": self.valid_until, "added": self.added, "lastChecked": self.checked, "status": self.status,
        }
        vouch = self.vouch
        if vouch is not None:
            out["vouch"] = {
                "subject": vouch.subject, "name": vouch.name,
                "identifiers": [{"scheme": i.scheme, "value": i.value} for i in vouch.identifiers],
                "parent": vouch.parent, "scope": vouch.scope.describe(), "description": describe_vouch(vouch),
            }
        return out


def _read_held_vouch(document: Any) -> tuple[Vouch | None, str | None]:
    """The vouch a held credential makes (None if it is not of a vouch type), or why a
    credential of a vouch type cannot be read as one."""
    try:
        credential = credential_of(document) if _is_jose(document) else document
        if not isinstance(credential, dict):
            return None, None
        return read_vouch(credential), None
    except VouchError as e:
        return None, str(e)
    except InvalidDocument:  # it verified when it was added, so this is not expected; not an anchor then
        return None, None


def _is_jose(document: Any) -> bool:
    return isinstance(document, str) or is_enveloped(document, "EnvelopedVerifiableCredential")


_KIND_NAMES = {"anchor": "anchor", "accreditation": "accreditation", "licence": "licence", "ip": "IP authorisation"}


def describe_vouch(vouch: Vouch) -> str:
    """One line for a person: ``anchor for did:web:mill.example (Aceros del Norte, MID
    MXACEDEL1234MON) by did:web:registry.example [types MillTestReportCredential], valid until
    2027-12-31T00:00:00Z``: the scope, when the vouch restricts one, in brackets, and for a
    licence the parent it extends."""
    details = ([vouch.name] if vouch.name else []) + [str(i) for i in vouch.identifiers]
    line = f"{_KIND_NAMES[vouch.kind]} for {vouch.subject}"
    if details:
        line += f" ({', '.join(details)})"
    line += f" by {vouch.issuer}"
    if vouch.scope.describe() != "unrestricted":
        line += f" [{vouch.scope.describe()}]"
    if vouch.parent:
        line += f", extends {vouch.parent}"
    until = vouch.scope.valid_until
    line += f", valid until {format_datetime(until)}" if until is not None else ", no end date"
    return line


@dataclass(frozen=True)
class AddedAnchor:
    """A held anchor :meth:`Wallet.anchors_for` chose: ``held`` and its ``vouch``; ``for_id``,
    the credential (presented, or an anchor added before) whose issuer it vouches for, or the
    licence that extends it; ``depth``, its place in the chain (1: for a presented credential)."""

    held: HeldCredential
    vouch: Vouch
    for_id: str
    depth: int


@dataclass(frozen=True)
class SkippedAnchor:
    """A held anchor that would have been added, and ``why`` it was not (expired, not valid yet,
    revoked or otherwise not valid when last checked, a VC-JWT 1.1 token, beyond the bounds)."""

    held: HeldCredential
    why: str


@dataclass(frozen=True)
class AnchorSelection:
    """What :meth:`Wallet.anchors_for` found: the anchors ``added`` (in the order they go into
    the presentation) and those ``skipped``."""

    added: tuple[AddedAnchor, ...] = ()
    skipped: tuple[SkippedAnchor, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(a.held.id for a in self.added)


@dataclass(frozen=True)
class PowerSelection:
    """What :meth:`Wallet.powers_for` found: the powers of attorney to present (``added``), and
    a ``note`` saying why none was added when the holder holds powers as an agent but none
    fits (None otherwise)."""

    added: tuple[HeldCredential, ...] = ()
    note: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(h.id for h in self.added)


@dataclass(frozen=True)
class CheckChange:
    """One credential's state before and after :meth:`Wallet.check`."""

    id: str
    type: str
    before: str
    after: str
    result: VerificationResult

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class ImportReport:
    """What :meth:`Wallet.import_backup` (or :meth:`Wallet.restore`) kept of a backup: ids
    added, ids already held, and each credential refused as ``(id, why)`` (the id the backup
    gives it, or ``#n``, its place in the backup, counted from 1)."""

    added: tuple[str, ...]
    already_held: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = ()


def credential_id(document: Any) -> str:
    """The Data Integrity credential's ``id``, or else a stable id made from the JCS hash of
    what is stored (the credential, or the token of a JOSE-secured one)."""
    value = document.get("id") if isinstance(document, dict) else None
    if isinstance(value, str) and value and not value.startswith("data:"):
        return value
    return "urn:sha256:" + hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _now() -> str:
    return format_datetime(datetime.now(timezone.utc).replace(microsecond=0))


class Wallet:
    """An importer's wallet in the directory ``home`` (file ``wallet.vcw``, mode 0600).

    ``verifier`` checks credentials on :meth:`add` and :meth:`check`; by default an online
    :class:`tradevc.verifier.Verifier` that resolves did:web and fetches status lists, with
    :class:`HolderPolicy`. Open with :meth:`open` or make one with :meth:`create`.
    """

    def __init__(self, home: Path, file: WalletFile, passphrase: bytes, content: dict[str, Any], key: Any,
                 verifier: Verifier | None) -> None:
        self.home = home
        self._file = file
        self._passphrase = passphrase
        self._content = content
        self._key = key
        self._verifier = verifier
        self._holder = self._load_holder(content)
        self.last_import: ImportReport | None = None  # what the last restore or import kept and refused
        self.last_anchors: AnchorSelection | None = None  # the anchors the last presentation added and skipped

    # -- opening -----------------------------------------------------------------------------------

    @classmethod
    def create(
        cls, home: str | os.PathLike[str], passphrase: str | bytes, *, key_type: str = "Ed25519",
        did_method: str = "key", kdf: KdfParams | None = None, verifier: Verifier | None = None,
    ) -> "Wallet":
        """A new wallet with a new holder key (Ed25519 by default) and DID (did:key, or did:jwk).

        :raises WalletError: a wallet already exists there (it is left untouched).
        :raises ValueError: empty passphrase, unknown key type or DID method, scrypt cost out of bounds.
        """
        if did_method not in ("key", "jwk"):
            raise ValueError(f"the holder DID method must be 'key' or 'jwk', not {did_method!r}")
        passphrase = normalize_passphrase(passphrase)
        path = Path(home).expanduser()
        file = WalletFile(path / WALLET_FILE)
        holder = KeyPair.generate(key_type)
        did = holder.did if did_method == "key" else did_jwk(holder)
        method = holder.verification_method if did_method == "key" else did + "#0"
        content = {
            "format": "tradevc-wallet", "version": CONTENT_VERSION, "created": _now(),
            "holder": {"did": did, "verificationMethod": method, "keyType": holder.key_type,
                       "privateKeyJwk": holder.to_jwk(private=True)},
            "credentials": [],
        }
        key = new_key(passphrase, kdf)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with file.locked():
            refuse_existing(file.path)
            file.write(seal(_dump(content), key, kind="wallet"))
        return cls(path, file, passphrase, content, key, verifier)

    @classmethod
    def open(cls, home: str | os.PathLike[str], passphrase: str | bytes, *, verifier: Verifier | None = None) -> "Wallet":
        """Open the wallet in ``home``.

        :raises WalletNotFound: there is none. :raises WrongPassphrase: the passphrase is wrong.
        :raises WalletCorrupted: the file is truncated, altered or not a wallet.
        """
        path = Path(home).expanduser()
        file = WalletFile(path / WALLET_FILE)
        passphrase = normalize_passphrase(passphrase)
        sealed = unseal(file.read_bytes(), passphrase, kind="wallet")
        return cls(path, file, passphrase, _load(sealed.plaintext), sealed.key, verifier)

    @staticmethod
    def exists(home: str | os.PathLike[str]) -> bool:
        return (Path(home).expanduser() / WALLET_FILE).exists()

    def _load_holder(self, content: Mapping[str, Any]) -> KeyPair:
        try:
            return KeyPair.from_jwk(content["holder"]["privateKeyJwk"])
        except (KeyError, TypeError, VcError) as e:
            raise WalletCorrupted(f"the wallet's holder key is unreadable: {e}") from e

    def _update(self, change: Callable[[dict[str, Any]], _T]) -> _T:
        """Read the file again under the lock, apply ``change`` to its content, write it back
        (sealed again at today's cost if the file was sealed at a lower one)."""
        with self._file.locked():
            sealed = unseal(self._file.read_bytes(), self._passphrase, kind="wallet", cached=self._key)
            content = _load(sealed.plaintext)
            outcome = change(content)
            key = sealed.key if sealed.key.params.n >= default_kdf().n else new_key(self._passphrase)
            self._file.write(seal(_dump(content), key, kind="wallet"))
        self._content, self._key = content, key
        return outcome

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = Verifier(policy=HolderPolicy())
        return self._verifier

    # -- the holder --------------------------------------------------------------------------------

    @property
    def holder_did(self) -> str:
        did: str = self._content["holder"]["did"]
        return did

    @property
    def verification_method(self) -> str:
        method: str = self._content["holder"]["verificationMethod"]
        return method

    @property
    def holder_key_type(self) -> str:
        return self._holder.key_type

    # -- credentials -------------------------------------------------------------------------------

    def list(self) -> list[HeldCredential]:
        """Everything held, in the order it was added."""
        return [HeldCredential._from_record(r) for r in self._content["credentials"]]

    def anchors(self) -> builtins.list[HeldCredential]:  # Wallet.list shadows list here
        """The anchors held (credentials whose :attr:`HeldCredential.vouch` reads), in the order
        they were added."""
        return [h for h in self.list() if h.vouch is not None]

    def get(self, credential_id: str) -> HeldCredential:
        """:raises WalletError: no credential with that id."""
        for record in self._content["credentials"]:
            if record.get("id") == credential_id:
                return HeldCredential._from_record(record)
        raise WalletError(f"no credential {credential_id!r} in this wallet (see 'vc-wallet list')")

    def add(self, document: Any, *, now: datetime | None = None) -> tuple[HeldCredential, bool]:
        """Verify ``document`` and keep it. Returns the held credential and whether it is new
        (False: the same credential was already held; nothing changed).

        ``document`` is a credential with Data Integrity proofs (a JSON object), or a
        JOSE-secured one: a compact JWS string (``vc+jwt`` or VC-JWT 1.1) or an
        ``EnvelopedVerifiableCredential``. It is kept exactly as given (a token with whitespace
        around it is refused, not trimmed).

        :raises CredentialRefused: it is not a credential, or it did not verify (``.result``
            says which check failed or could not be carried out); nothing is stored.
        """
        record = self._verified_record(document, now=now)

        def change(content: dict[str, Any]) -> bool:
            held = _held_as(content, record)
            if held is not None:
                return False
            content["credentials"].append(record)
            return True

        added = self._update(change)
        return self.get(record["id"]), added

    def _verified_record(self, document: Any, *, now: datetime | None) -> dict[str, Any]:
        """The record :meth:`add` keeps for ``document``, once it verified.

        :raises CredentialRefused: see :meth:`add`."""
        secured = isinstance(document, str) or is_enveloped(document, "EnvelopedVerifiableCredential")
        if not isinstance(document, (str, dict)):  # a token is not trimmed: whitespace around it is refused
            raise CredentialRefused("not a credential: expected a JSON object or a compact JWS")
        result = self.verifier.verify_credential(document, now=now)
        if not result.verified:
            verdict = "could not be verified" if result.could_not_verify else "did not verify"
            raise CredentialRefused(f"{verdict}: {problem_of(result)}", result)
        credential = parse_credential(credential_of(document) if secured else document)
        return {
            "id": credential.id or credential_id(document), "types": credential.types, "issuer": credential.issuer_id,
            "validUntil": credential.valid_until.isoformat() if credential.valid_until else None,
            "added": _now(), "lastCheck": {"at": _now(), "status": status_of(result)},
            "credential": document,
        }

    def _verified_records(
        self, records: Any, *, now: datetime | None
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[tuple[str, str]]]:
        """Each credential of a backup's records verified as :meth:`add` does: the records to
        keep (one per id; when it was first added is kept) and the refused ``(id, why)``."""
        kept: dict[str, dict[str, Any]] = {}
        refused: builtins.list[tuple[str, str]] = []
        for n, record in enumerate(records if isinstance(records, builtins.list) else [], start=1):
            given = record.get("id") if isinstance(record, dict) else None
            label = given if isinstance(given, str) and given else f"#{n}"
            if not isinstance(record, dict) or "credential" not in record:
                refused.append((label, "the backup's record holds no credential"))
                continue
            try:
                verified = self._verified_record(record["credential"], now=now)
                if isinstance(record.get("added"), str):
                    verified["added"] = record["added"]
                _held_as({"credentials": builtins.list(kept.values())}, verified)
            except CredentialRefused as e:
                refused.append((label, e.message))
                continue
            kept.setdefault(verified["id"], verified)
        return builtins.list(kept.values()), refused

    def remove(self, credential_id: str) -> None:
        """:raises WalletError: no credential with that id (nothing changes)."""

        def change(content: dict[str, Any]) -> None:
            kept = [r for r in content["credentials"] if r.get("id") != credential_id]
            if len(kept) == len(content["credentials"]):
                raise WalletError(f"no credential {credential_id!r} in this wallet (see 'vc-wallet list')")
            content["credentials"] = kept

        self._update(change)

    def check(self, *, now: datetime | None = None) -> builtins.list[CheckChange]:  # Wallet.list shadows list here
        """Verify every held credential again (revocation, suspension, expiry, keys) and record
        the new state. Credentials are never dropped, whatever their state."""
        return self.recheck([h.id for h in self.list()], now=now)

    def recheck(self, credential_ids: Sequence[str], *, now: datetime | None = None) -> builtins.list[CheckChange]:
        """Verify the credentials ``credential_ids`` again, as :meth:`check` verifies everything
        held, and record their new state; one :class:`CheckChange` each, in that order (an id
        given twice is checked once). ``vc-wallet present`` runs this on what it is about to sign.

        :raises WalletError: an unknown id (nothing is verified or recorded).
        """
        chosen = [self.get(i) for i in dict.fromkeys(credential_ids)]
        changes = []
        for held in chosen:
            result = self.verifier.verify_credential(held.credential, now=now)
            changes.append(CheckChange(held.id, held.type, held.status, status_of(result), result))
        stamp = _now()
        after = {c.id: c.after for c in changes}

        def change(content: dict[str, Any]) -> None:
            for record in content["credentials"]:
                if record.get("id") in after:
                    record["lastCheck"] = {"at": stamp, "status": after[record["id"]]}

        self._update(change)
        return changes

    # -- presenting --------------------------------------------------------------------------------

    def anchors_for(
        self, credential_ids: Sequence[str], *, now: datetime | None = None, max_depth: int = MAX_ANCHOR_DEPTH,
        max_anchors: int = MAX_ANCHORS,
    ) -> AnchorSelection:
        """The held anchors that let a verifier trust the issuers of the credentials
        ``credential_ids``, as :meth:`present` adds them.

        For each credential, the anchors whose subject is its issuer (and, for a licence, the
        licence it extends, by id); then, for each anchor added, the anchors whose subject is
        *its* issuer (the accreditor of a registrar...) and the licence it extends, up to
        ``max_depth`` links and ``max_anchors`` anchors, breadth first (the nearest links
        first), each once. Nothing is judged about scopes: that is the verifier's call.

        Skipped (and listed in ``skipped``, each once): an anchor not in force at ``now``
        (default: the current time) by its own ``validFrom``/``validUntil``; one that was
        ``REVOKED``, ``SUSPENDED`` or ``INVALID`` when last checked (``vc-wallet check``); a
        VC-JWT 1.1 token (it cannot go into a VC 2.0 presentation); one beyond the bounds.

        :raises WalletError: an unknown id. :raises ValueError: a naive ``now``, bounds below 1.
        """
        moment = _aware(now)
        if max_depth < 1 or max_anchors < 1:
            raise ValueError("the anchor bounds (depth and count) must be at least 1")
        chosen = [self.get(i) for i in credential_ids]
        held_anchors = self.anchors()
        taken = {h.id for h in chosen}
        added: builtins.list[AddedAnchor] = []
        skipped: dict[str, SkippedAnchor] = {}
        frontier: builtins.list[tuple[HeldCredential, Vouch | None, int]] = [(h, h.vouch, 0) for h in chosen]
        while frontier:
            following: builtins.list[tuple[HeldCredential, Vouch | None, int]] = []
            for held, vouch, depth in frontier:
                parent = vouch.parent if vouch is not None else None
                for candidate in held_anchors:
                    anchor = candidate.vouch
                    assert anchor is not None  # self.anchors() holds only those
                    if anchor.subject != held.issuer and not (parent and parent in (candidate.id, anchor.credential_id)):
                        continue
                    if candidate.id in taken or candidate.id in skipped:
                        continue
                    why = _not_presentable_anchor(candidate, anchor, moment)
                    if why is None and depth + 1 > max_depth:
                        why = f"beyond the chain depth of {max_depth}"
                    if why is None and len(added) >= max_anchors:
                        why = f"over the bound of {max_anchors} anchors in one presentation"
                    if why is not None:
                        skipped[candidate.id] = SkippedAnchor(candidate, why)
                        continue
                    taken.add(candidate.id)
                    added.append(AddedAnchor(candidate, anchor, held.id, depth + 1))
                    following.append((candidate, anchor, depth + 1))
            frontier = following
        return AnchorSelection(tuple(added), tuple(skipped.values()))

    def recheck_anchors(
        self, credential_ids: Sequence[str], *, now: datetime | None = None
    ) -> builtins.list[CheckChange]:
        """Verify again each anchor :meth:`anchors_for` would add for ``credential_ids`` and
        record its state, until every anchor it adds has been verified now (one per
        :class:`CheckChange`). An anchor found revoked, suspended or invalid is then left out
        by :meth:`anchors_for` (the anchors for its own issuer are not followed), and another
        held for the same party may take its place (it is verified in turn). One that could not
        be verified (its issuer's site is down, or the wallet is offline) is still added: customs
        verifies it itself.

        :raises WalletError: an unknown id.
        """
        done: dict[str, CheckChange] = {}
        while True:  # each round verifies at least one anchor not verified before: it ends
            todo = [a.held.id for a in self.anchors_for(credential_ids, now=now).added if a.held.id not in done]
            if not todo:
                return builtins.list(done.values())
            for change in self.recheck(todo, now=now):
                done[change.id] = change

    def powers_of_attorney(self) -> builtins.list[HeldCredential]:
        """The held customs powers of attorney (:data:`POWER_OF_ATTORNEY_TYPES`) that name this
        wallet's holder as the agent: their subject's ``id`` is the holder DID."""
        return [h for h in self.list() if _is_power(h) and self.holder_did in _agents(h)]

    def power_of_attorney(self, credential_id: str) -> HeldCredential:
        """The held power of attorney ``credential_id``, checked to name the holder as agent.

        :raises WalletError: an unknown id, not a power of attorney, or one for another agent.
        """
        held = self.get(credential_id)
        if not _is_power(held):
            raise WalletError(f"{credential_id} is a {held.type}, not a power of attorney")
        if self.holder_did not in _agents(held):
            agents = ", ".join(_agents(held)) or "no one"
            raise WalletError(f"{credential_id} names {agents} as agent, not this wallet's holder {self.holder_did}")
        return held

    def powers_for(self, credential_ids: Sequence[str], *, now: datetime | None = None) -> PowerSelection:
        """The powers of attorney a customs broker presents with ``credential_ids``: those
        :meth:`powers_of_attorney` holds from the importer the chosen credentials name.

        The importer is read from the trade documents' ``importerDetails``, ``importer`` and
        ``importerOfRecord``: a power fits an importer named by ``id`` if the importer issued
        it, and one named only by ``name`` if its ``principal.name`` is that name (compared
        without case and extra spaces). Of the powers that fit, those in force at ``now`` (by
        their validity period and as last checked) are chosen; if none is, all that fit are, so
        that checking them says why they do not do. None is chosen, with a ``note``, when the
        powers that fit come from more than one issuer (a name is not unique). None is chosen when the holder is the
        importer named, when a power of attorney is already among ``credential_ids``, or when
        nothing fits (``note`` says so, if the holder holds powers at all). Powers from other
        importers are never chosen: a broker's clients are not customs' business on this entry.

        :raises WalletError: an unknown id. :raises ValueError: a naive ``now``.
        """
        moment = _aware(now)
        held_powers = self.powers_of_attorney()
        chosen = [self.get(i) for i in credential_ids]
        if not held_powers or any(_is_power(h) for h in chosen):
            return PowerSelection()
        importers = [i for h in chosen for i in _importers_named(_document_of(h))]
        if any(did == self.holder_did for did, _ in importers):
            return PowerSelection()
        if not importers:
            return PowerSelection(note="the chosen credentials name no importer (give the power with --poa ID)")
        fitting = [p for p in held_powers if _grants(p, importers)]
        if not fitting:
            named = ", ".join(dict.fromkeys(did or name or "?" for did, name in importers))
            return PowerSelection(note=f"no power of attorney held from the importer they name ({named})")
        in_force = [p for p in fitting if _power_in_force(p, moment)]
        issuers = sorted({p.issuer or "?" for p in in_force or fitting})
        if len(issuers) > 1:  # matched by name alone: two parties of that name, or one posing as the other
            return PowerSelection(note="powers of attorney from several issuers (" + ", ".join(issuers) + ") fit the "
                                  "importer the credentials name by name only; give the one to present with --poa ID")
        return PowerSelection(tuple(in_force or fitting))

    def _entries(
        self, credential_ids: Sequence[str], with_anchors: bool, now: datetime | None
    ) -> tuple[builtins.list[dict[str, Any]], AnchorSelection]:
        """What a presentation of ``credential_ids`` holds, and the anchors chosen for it."""
        if not credential_ids:
            raise WalletError("choose at least one credential to present")
        chosen = [_presentable(self.get(i)) for i in credential_ids]
        selection = self.anchors_for(credential_ids, now=now) if with_anchors else AnchorSelection()
        chosen += [_presentable(a.held) for a in selection.added]
        return chosen, selection

    def present_jwt(
        self, credential_ids: Sequence[str], *, challenge: str, domain: str, issued: datetime | None = None,
        expires: datetime | None = None, loader: DocumentLoader | None = None, with_anchors: bool = True,
        now: datetime | None = None,
    ) -> str:
        """The presentation :meth:`present` makes, secured with JOSE instead: a VC-JOSE-COSE
        ``application/vp+jwt`` compact JWS signed with the holder key (EdDSA for Ed25519,
        ES256 for P-256, ES384 for P-384; ``kid`` the holder's verification method). The
        presentation is the claims set; the verifier's ``challenge`` is its ``nonce`` and the
        ``domain`` its ``aud``; ``iat`` is ``issued`` (default: now), and ``exp`` is set only if
        ``expires`` is given. Data Integrity credentials go in as they are, ``vc+jwt`` ones in
        ``EnvelopedVerifiableCredential`` objects.

        :raises WalletError: as :meth:`present`. :raises ValueError: empty challenge or domain,
            a naive time, ``expires`` not after ``issued``.
        """
        entries, selection = self._entries(credential_ids, with_anchors, now)
        moment = _aware(issued)
        claims: dict[str, Any] = {"iat": int(moment.timestamp())}
        if expires is not None:
            if _aware(expires) <= moment:
                raise ValueError("the presentation must expire after it is issued")
            claims["exp"] = int(expires.timestamp())
        token = sign_presentation_jwt(
            entries, self._holder, challenge=challenge, domain=domain, holder=self.holder_did,
            verification_method=self.verification_method, claims=claims,
            loader=loader or (self._verifier.loader if self._verifier is not None else None),
        )
        self.last_anchors = selection
        return token

    def present(
        self, credential_ids: Sequence[str], *, challenge: str, domain: str, cryptosuite: str | None = None,
        created: str | datetime | None = None, loader: DocumentLoader | None = None, with_anchors: bool = True,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """A presentation of the chosen credentials for one verifier, signed with the holder key
        (proof purpose ``authentication``, bound to ``challenge`` and ``domain``). It does not
        verify them again: :meth:`recheck` does (``vc-wallet present`` runs it first).

        With ``with_anchors`` (the default), the held anchors for the issuers of the chosen
        credentials follow them in the presentation, chosen by :meth:`anchors_for` at ``now``;
        ``last_anchors`` says which were added and which skipped. A verifier that trusts
        issuers through registrars and accreditation bodies needs them to trust an issuer it
        does not list itself; one that lists the issuer ignores them. They are statements about
        the issuers, not about the holder.

        The holder proof defaults to a JCS suite (eddsa-jcs-2022 for Ed25519): the credentials
        keep their own proofs, and RDF canonicalization of a presentation relates every node of
        every credential to its graph, which costs far more than JCS for large trade documents.
        ``loader`` serves the JSON-LD contexts (default: the wallet verifier's, if it was given one,
        else the pinned contexts).

        :raises WalletError: no credential chosen, an unknown id, or a suite that does not fit the key.
        :raises ValueError: empty challenge or domain, a naive ``now``.
        :raises ContextNotPinned, DataLossError: a context is not pinned, or an inline context
            is not covered by the suite (see :func:`tradevc.vc.jsonld.check_context_use`).
        """
        if not credential_ids:
            raise WalletError("choose at least one credential to present")
        suites = HOLDER_SUITES[self._holder.key_type]
        suite = cryptosuite or suites[0]
        if suite not in suites:
            raise WalletError(f"a {self._holder.key_type} holder key signs with {' or '.join(suites)}, not {suite}")
        chosen, selection = self._entries(credential_ids, with_anchors, now)
        presentation = sign_presentation(
            chosen, self._holder, challenge=challenge, domain=domain, cryptosuite=suite, holder=self.holder_did,
            verification_method=self.verification_method, created=created,
            loader=loader or (self._verifier.loader if self._verifier is not None else None),
        )
        self.last_anchors = selection
        return presentation

    # -- backup ------------------------------------------------------------------------------------

    def export(self, path: str | os.PathLike[str], *, passphrase: str | bytes | None = None,
               kdf: KdfParams | None = None) -> None:
        """Write an encrypted backup (holder key and every credential) to ``path`` (mode 0600),
        under ``passphrase`` (default: the wallet's own) with a fresh salt, at ``kdf`` cost
        (default: :func:`tradevc.vc.sealed.default_kdf`)."""
        key = new_key(passphrase if passphrase is not None else self._passphrase, kdf)
        target = Path(path).expanduser()
        if target.resolve() == self._file.path.resolve():
            raise WalletError("a backup cannot overwrite the wallet itself")
        write_atomic(target, seal(_dump(self._content), key, kind="backup"), mode=0o600)

    @classmethod
    def restore(
        cls, home: str | os.PathLike[str], backup: str | os.PathLike[str], passphrase: str | bytes, *,
        backup_passphrase: str | bytes | None = None, verifier: Verifier | None = None, now: datetime | None = None,
    ) -> "Wallet":
        """A new wallet in ``home`` from a backup: the same holder key, encrypted under
        ``passphrase``, and the backup's credentials that verify now, checked as :meth:`add`
        checks them (with ``verifier``); ``last_import`` says which were kept and which refused.

        :raises WalletError: a wallet already exists there.
        """
        passphrase = normalize_passphrase(passphrase)
        content = _read_backup(backup, backup_passphrase if backup_passphrase is not None else passphrase)
        path = Path(home).expanduser()
        file = WalletFile(path / WALLET_FILE)
        refuse_existing(file.path)  # before verifying anything (and again under the lock)
        key = new_key(passphrase)
        wallet = cls(path, file, passphrase, {**content, "credentials": []}, key, verifier)
        records, refused = wallet._verified_records(content["credentials"], now=now)
        content["credentials"] = records
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with file.locked():
            refuse_existing(file.path)
            file.write(seal(_dump(content), key, kind="wallet"))
        wallet._content = content
        wallet.last_import = ImportReport(tuple(r["id"] for r in records), (), tuple(refused))
        return wallet

    def import_backup(
        self, backup: str | os.PathLike[str], *, passphrase: str | bytes | None = None, now: datetime | None = None
    ) -> ImportReport:
        """Merge the credentials of a backup into this wallet: each one not held yet is verified
        as :meth:`add` verifies it and kept only if it verifies; the report lists the refused
        ones with the reason (a different credential under a held id is refused too). The
        wallet keeps its own holder key.
        """
        incoming = _read_backup(backup, passphrase if passphrase is not None else self._passphrase)
        records, refused = self._verified_records(incoming["credentials"], now=now)

        def change(content: dict[str, Any]) -> tuple[builtins.list[str], builtins.list[str], builtins.list[tuple[str, str]]]:
            added: builtins.list[str] = []
            skipped: builtins.list[str] = []
            clashes: builtins.list[tuple[str, str]] = []
            for record in records:
                try:
                    held = _held_as(content, record)
                except CredentialRefused as e:
                    clashes.append((record["id"], e.message))
                    continue
                if held is not None:
                    skipped.append(record["id"])
                else:
                    content["credentials"].append(record)
                    added.append(record["id"])
            return added, skipped, clashes

        added, skipped, clashes = self._update(change)
        self.last_import = ImportReport(tuple(added), tuple(skipped), tuple(refused + clashes))
        return self.last_import


def _held_as(content: Mapping[str, Any], record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The held record of the same credential as ``record`` (None: its id is not held).

    :raises CredentialRefused: a different credential is held under its id."""
    held: Mapping[str, Any]
    for held in content["credentials"]:
        if held["id"] == record["id"]:
            if rfc8785.dumps(held["credential"]) == rfc8785.dumps(record["credential"]):
                return held
            raise CredentialRefused(f"a different credential with the id {record['id']} is already held; remove it first")
    return None


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


_BAD_LAST_CHECK = ("REVOKED", "SUSPENDED", "INVALID")


def _not_presentable_anchor(held: HeldCredential, vouch: Vouch, now: datetime) -> str | None:
    """Why a held anchor does not go into a presentation at ``now`` (None: it does)."""
    until, since = vouch.scope.valid_until, vouch.scope.valid_from
    if until is not None and until < now:
        return f"expired on {format_datetime(until)}"
    if since is not None and now < since:
        return f"not valid until {format_datetime(since)}"
    if held.status.startswith(_BAD_LAST_CHECK):
        return f"{held.status} when last checked ({held.checked}); run 'vc-wallet check'"
    if isinstance(held.credential, str) and token_type(parse_compact_jws(held.credential)) != VC_TYP:
        return "a VC-JWT 1.1 token cannot go into a VC 2.0 presentation"
    return None


def _document_of(held: HeldCredential) -> dict[str, Any]:
    """The credential itself (a JOSE-secured one's payload; it verified when it was added)."""
    try:
        document = credential_of(held.credential) if _is_jose(held.credential) else held.credential
    except InvalidDocument:
        return {}
    return document if isinstance(document, dict) else {}


def _objects(value: Any) -> builtins.list[dict[str, Any]]:
    """``value`` as a list of the objects it is or holds."""
    return [v for v in (value if isinstance(value, builtins.list) else [value]) if isinstance(v, dict)]


def _is_power(held: HeldCredential) -> bool:
    return any(t in POWER_OF_ATTORNEY_TYPES for t in held.types)


def _agents(held: HeldCredential) -> builtins.list[str]:
    """The agents (subject ids) a power of attorney names."""
    return [s["id"] for s in _objects(_document_of(held).get("credentialSubject")) if isinstance(s.get("id"), str)]


def _name(value: Any) -> str | None:
    return " ".join(value.split()).casefold() if isinstance(value, str) and value.strip() else None


def _importers_named(credential: Mapping[str, Any]) -> builtins.list[tuple[str | None, str | None]]:
    """The importers a trade document names, as ``(id, name)``: its subjects'
    ``importerDetails``, ``importer`` and ``importerOfRecord`` objects."""
    found = []
    for subject in _objects(credential.get("credentialSubject")):
        for field in _IMPORTER_FIELDS:
            for party in _objects(subject.get(field)):
                did = party.get("id") if isinstance(party.get("id"), str) else None
                name = party.get("name") if isinstance(party.get("name"), str) else None
                if did or name:
                    found.append((did, name))
    return found


def _grants(power: HeldCredential, importers: Sequence[tuple[str | None, str | None]]) -> bool:
    """Whether ``power`` is granted by one of ``importers``: an importer named by DID grants
    only a power it issued (as customs requires; a principal of the same name or even the
    same ``id`` in a power another party issued is not the importer's word); one named only
    by name, a power whose principal bears that name."""
    principals = [p for s in _objects(_document_of(power).get("credentialSubject")) for p in _objects(s.get("principal"))]
    names = {_name(p.get("name")) for p in principals} - {None}
    return any(power.issuer == did if did is not None else _name(name) in names for did, name in importers)


def _power_in_force(power: HeldCredential, now: datetime) -> bool:
    """In its validity period at ``now``, and not found revoked, suspended or invalid when last checked."""
    if power.status.startswith(_BAD_LAST_CHECK):
        return False
    document = _document_of(power)
    for name, ends in (("validFrom", False), ("validUntil", True)):
        value = document.get(name)
        if not isinstance(value, str):
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        if moment.tzinfo is None or (now > moment if ends else now < moment):
            return False
    return True


def _presentable(held: HeldCredential) -> dict[str, Any]:
    """What goes into a presentation: the credential, or a vc+jwt in its envelope."""
    if not isinstance(held.credential, str):
        credential: dict[str, Any] = held.credential
        return credential
    if token_type(parse_compact_jws(held.credential)) != VC_TYP:
        raise WalletError(
            f"{held.id} is a VC-JWT 1.1 token: it cannot go into a VC 2.0 presentation (only vc+jwt can be enveloped)"
        )
    return envelope_credential(held.credential)


def _read_backup(path: str | os.PathLike[str], passphrase: str | bytes) -> dict[str, Any]:
    try:
        data = Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        raise WalletError(f"no backup file at {path}") from None
    content = _load(unseal(data, passphrase, kind="backup").plaintext)
    try:
        KeyPair.from_jwk(content["holder"]["privateKeyJwk"])
    except (KeyError, TypeError, VcError, KeyMaterialError) as e:
        raise WalletCorrupted(f"the backup's holder key is unreadable: {e}") from e
    return content


def _dump(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _load(plaintext: bytes) -> dict[str, Any]:
    try:
        content = json.loads(plaintext.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise WalletCorrupted("the wallet's content is not readable JSON") from e
    if not isinstance(content, dict) or content.get("format") != "tradevc-wallet":
        raise WalletCorrupted("the wallet's content is not a tradevc wallet")
    if content.get("version") != CONTENT_VERSION:
        raise WalletCorrupted(f"unknown wallet content version {content.get('version')!r}")
    if not isinstance(content.get("credentials"), list) or not isinstance(content.get("holder"), dict):
        raise WalletCorrupted("the wallet's content is incomplete")
    return content
