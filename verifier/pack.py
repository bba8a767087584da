"""Offline trust packs: one signed, versioned file that customs builds from its trust policy,
for a border post that verifies with no network.

A pack holds the policy document as given (and the anchor credentials it names), the DID
documents of every issuer it knows (the exact bytes fetched, per URL, with the fetch time),
their status list credentials (the same), the contexts and JSON Schemas the deployment pins,
a build time and a maximum staleness. :func:`build_pack` makes one (reusing what is still
fresh in a previous pack), :func:`load_pack` reads one back for verification, refusing a
pack that is not signed by a key the caller trusts (given from outside the pack), that was
altered anywhere, that is older than its ``maxStaleness`` or built in the future.
:meth:`TrustPack.verifier` gives a :class:`PackVerifier`: a :class:`~tradevc.verifier.Verifier`
with no network whose DID documents and status lists come only from the pack, verified by
the same code as online, and whose every report has a ``trust_pack`` check naming the pack.

The file is JSON::

    {"pack": {"type": "TradevcTrustPack", "formatVersion": 1, "name": "port-of-laredo",
              "version": 7, "built": "2026-12-01T08:00:00Z", "maxStaleness": "P7D",
              "policy": {...}, "anchors": [{"ref": "anchors/mill.json", "credential": {...}}],
              "didDocuments": {"did:web:...": {"url", "mediaType", "fetched", "sha256", "body"}},
              "statusLists": {"https://...": {"url", "mediaType", "fetched", "sha256", "body"}},
              "contexts": {"index.json": "...", ...} | null, "schemas": {...} | null},
     "signature": {"protected": "<base64url JWS header>", "signature": "<base64url>"}}

``body`` is the exact text fetched (UTF-8; the documents are I-JSON or compact JWS). The
signature is a JWS (RFC 7515, flattened JSON serialization with a detached payload) whose
payload is the JCS (RFC 8785) serialization of ``pack``: header ``alg`` (EdDSA, ES256 or
ES384, by the key type), ``kid`` (the signer's did:key verification method) and ``typ``
:data:`PACK_TYP`. The file is written in one canonical layout (sorted keys, one-space
indents) and read back only in it, so a byte changed anywhere, even in white space, is
refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
import rfc8785
from cryptography.exceptions import InvalidSignature

from tradevc.vc.atomicfile import fsync_dir, read_private, write_atomic
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.checks.schemas import SchemaStore, SchemaStoreError, default_schema_store
from tradevc.vc.compat import Compatibility
from tradevc.vc.errors import ContextIndexError, InvalidDocument, KeyMaterialError, ResolutionError, VcError
from tradevc.vc.jsonld import DocumentLoader, PinnedContextLoader, default_loader
from tradevc.vc.jsontext import Limits, loads
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode, base64url_encode
from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
from tradevc.vc.retrieval.did.web import DidWebResolver, document_url
from tradevc.vc.retrieval.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, JSON_TYPES, HttpsFetcher
from tradevc.vc.retrieval.mirror import Held, Mirror
from tradevc.vc.retrieval.status_lists import DEFAULT_TTL, LIST_MEDIA_TYPES
from tradevc.vc.securing.jws import ALGORITHMS, document_of_file, parse_compact_jws
from tradevc.vc.status import BitstringStatusList
from tradevc.vc.verification import DEFAULT_CLOCK_SKEW

from .service import STATUS_LIST_MAX_BYTES, Verifier
from .trust import TrustPathPolicy, policy_from_document, read_trust_store
from .challenges import ChallengeStore

__all__ = [
    "PACK_TYPE", "PACK_TYP", "FORMAT_VERSION", "SIGNERS_ENV", "DEFAULT_MAX_STALENESS", "DEFAULT_REFETCH_AFTER",
    "MAX_STALENESS_LIMIT",
    "PackError", "PackEntry", "Anchor", "TrustPack", "PackVerifier", "BuildReport",
    "build_pack", "load_pack", "inspect_pack", "read_pack", "write_pack", "diff_packs", "describe_pack",
    "load_signing_key", "write_signing_key", "parse_duration", "format_duration", "trusted_signers_from",
]

PACK_TYPE = "TradevcTrustPack"
PACK_TYP = "tradevc-trust-pack+jws"
FORMAT_VERSION = 1
SIGNERS_ENV = "TRADEVC_PACK_SIGNERS"
"""The environment variable naming the trusted pack signers (DIDs separated by white space)."""
DEFAULT_MAX_STALENESS = timedelta(days=7)
DEFAULT_REFETCH_AFTER = timedelta(days=1)
MAX_STALENESS_LIMIT = timedelta(days=90)
"""The longest ``maxStaleness`` a verifier accepts unless told otherwise (``max_staleness_limit``):
the pack's signer chooses it, and a pack that may be used for years would let an old pack (its
revocations, its keys) be replayed at a border post for years."""
PACK_MAX_BYTES = 512 * 1024 * 1024
"""The largest pack file read (status lists may be up to 16 MiB each)."""
CHECK = "trust_pack"
_PACK_LIMITS = Limits(max_document_size=PACK_MAX_BYTES, max_array_entries=1_000_000)
_INPUT_MAX_BYTES = 16 * 1024 * 1024


class PackError(VcError):
    """A pack cannot be built, read or used; ``message`` says what failed and what to do.
    ``code``: ``PACK_UNREADABLE``, ``PACK_MALFORMED``, ``PACK_SIGNATURE`` (altered, or signed
    by a key that is not trusted), ``PACK_NO_SIGNER`` (no trusted signer given), ``PACK_STALE``,
    ``PACK_FUTURE``, ``PACK_FETCH`` (a build could not fetch a document), ``PACK_INPUT`` (a
    policy, key, credential, contexts or schemas given to a build cannot be used)."""

    code = "PACK_ERROR"


# -- small helpers ---------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise PackError(f"{where} must be a UTC time string", code="PACK_MALFORMED")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PackError(f"{where} is not a time: {value!r}", code="PACK_MALFORMED") from None
    if moment.tzinfo is None:
        raise PackError(f"{where} has no time zone: {value!r}", code="PACK_MALFORMED")
    return moment


# ASCII digits only: \d would also take other scripts' digits (int() reads "\u0667" as 7)
_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
_ISO_DURATION = re.compile(r"P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?")


def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"36h"``, ``"1d12h"``, ``"90m"``, ``"3600s"``, or ISO 8601 days and times
    (``"P7D"``, ``"PT12H"``).

    :raises ValueError: another form, or zero.
    """
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or not any(match.groups()):
        match = _ISO_DURATION.fullmatch(text.strip()) if isinstance(text, str) and text.strip() != "P" else None
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration such as 7d, 12h, 1d12h, 90m or P7D")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None
    if value <= timedelta(0):
        raise ValueError(f"{text!r} is not a positive duration")
    return value


def format_duration(value: timedelta) -> str:
    """ISO 8601: ``P7D``, ``P1DT12H``, ``PT30M``."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if (days or time) else "PT0S"


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return f"in {_age(-delta)}"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 3 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _ago(age: timedelta) -> str:
    """``"19 h ago"``; a build time ahead of this clock (within the skew allowed) says so."""
    return f"{_age(age)} ago" if age >= timedelta(0) else f"{_age(-age)} ahead of this clock"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _serialize(document: Mapping[str, Any]) -> bytes:
    """The one layout a pack file is written (and accepted) in."""
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _read_file(path: str | os.PathLike[str], what: str, limit: int = _INPUT_MAX_BYTES) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise PackError(f"cannot read {what} {path}: {e.strerror or e}", code="PACK_INPUT") from None
    if len(data) > limit:
        raise PackError(f"{what} {path} is over the {limit}-byte limit", code="PACK_INPUT")
    return data


# -- keys and signers ------------------------------------------------------------------------------


def load_signing_key(path: str | os.PathLike[str]) -> KeyPair:
    """The private key of a key file: a JSON Multikey with ``secretKeyMultibase`` (what
    :func:`write_signing_key` writes), a private JWK (with ``d``), or an object with a
    ``privateKeyJwk``. Read as a private file (a symbolic link is refused; a file others
    may read is made 0600, with a warning).

    :raises PackError: (``PACK_INPUT``) unreadable, not JSON, or no usable private key.
    """
    try:
        data = read_private(path, limit=64 * 1024)
    except VcError as e:
        raise PackError(f"key file {path}: {e.message}", code="PACK_INPUT") from None
    except OSError as e:
        raise PackError(f"cannot read the key file {path}: {e.strerror or e}", code="PACK_INPUT") from None
    try:
        content = loads(data)
    except InvalidDocument as e:
        raise PackError(f"the key file {path} is not JSON: {e.message}", code="PACK_INPUT") from None
    if not isinstance(content, dict):
        raise PackError(f"the key file {path} must hold a JSON object", code="PACK_INPUT")
    try:
        if isinstance(content.get("secretKeyMultibase"), str) and isinstance(content.get("publicKeyMultibase"), str):
            key = KeyPair.from_multibase(content["publicKeyMultibase"], content["secretKeyMultibase"])
        elif isinstance(content.get("privateKeyJwk"), dict):
            key = KeyPair.from_jwk(content["privateKeyJwk"])
        elif "kty" in content:
            key = KeyPair.from_jwk(content)
        else:
            raise KeyMaterialError("expected a Multikey with secretKeyMultibase, a private JWK or a privateKeyJwk")
    except VcError as e:
        raise PackError(f"the key file {path} holds no usable key: {e.message}", code="PACK_INPUT") from None
    if not key.has_secret:
        raise PackError(f"the key file {path} holds a public key only; signing a pack needs the private key",
                        code="PACK_INPUT")
    return key


def write_signing_key(path: str | os.PathLike[str], key: KeyPair) -> None:
    """Write ``key`` (with its secret) as a Multikey JSON file, mode 0600, atomically.

    :raises FileExistsError: the file exists (a key is never overwritten).
    :raises OSError: it cannot be written.
    """
    if os.path.lexists(path):
        raise FileExistsError(f"{path} exists; a key file is never overwritten")
    document = {**key.to_multikey(), "secretKeyMultibase": key.secret_key_multibase}
    # written whole under a temporary name, then linked to its name: link() fails if a file
    # appeared there since the check above (a rename would replace it)
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write_atomic(temp, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
        try:
            os.link(temp, target)
        except FileExistsError:
            raise FileExistsError(f"{path} exists; a key file is never overwritten") from None
    finally:
        os.unlink(temp)
    fsync_dir(target.parent)


def trusted_signers_from(values: Iterable[str]) -> frozenset[str]:
    """The DIDs of trusted pack signers from ``values`` (did:key or did:jwk DIDs, or their
    verification method URLs; an entry may hold several separated by white space or commas).

    :raises PackError: (``PACK_NO_SIGNER``) an entry is not a did:key or did:jwk DID.
    """
    signers = set()
    for value in values:
        for item in re.split(r"[\s,]+", value.strip()):
            if not item:
                continue
            did = item.split("#", 1)[0]
            if not re.fullmatch(r"did:(key|jwk):[A-Za-z0-9._%-]+", did):
                raise PackError(
                    f"{item!r} is not a pack signer: give the did:key (or did:jwk) DID of customs' pack key",
                    code="PACK_NO_SIGNER",
                )
            signers.add(did)
    return frozenset(signers)


def _signer_key(kid: str) -> KeyPair:
    try:
        return retrieve_verification_method(kid, DidResolvers.offline()).key
    except VcError as e:
        raise PackError(f"the pack's signature names {kid!r}, which is not a usable did:key or did:jwk key: "
                        f"{e.message}", code="PACK_SIGNATURE") from None


# -- the pack --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackEntry:
    """A document as fetched at build time: the exact bytes, the media type it was served
    with, and when."""

    url: str
    body: bytes
    media_type: str | None
    fetched: datetime

    @property
    def sha256(self) -> str:
        return _sha256(self.body)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "mediaType": self.media_type, "fetched": _iso(self.fetched), "sha256": self.sha256,
                "body": self.body.decode("utf-8")}


@dataclass(frozen=True)
class Anchor:
    """A credential the policy names as an anchor: ``ref`` is the path the policy gave
    (relative to the policy file), or ``"inline N"``; ``credential`` is its JSON or token."""

    ref: str
    credential: Any


@dataclass
class TrustPack:
    """A pack read back (see :func:`load_pack`). ``signer`` is the DID that signed it;
    ``signature_checked`` is False when it was read without trusted signers (for display)."""

    name: str
    version: int
    built: datetime
    max_staleness: timedelta
    policy: dict[str, Any]
    anchors: list[Anchor]
    did_documents: dict[str, PackEntry]
    status_lists: dict[str, PackEntry]
    contexts: dict[str, bytes] | None
    schemas: dict[str, bytes] | None
    signer: str
    signature_checked: bool
    payload: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def expires(self) -> datetime:
        """When the pack becomes too old to use: ``built + maxStaleness`` (the end of the
        calendar if that lies beyond it)."""
        try:
            return self.built + self.max_staleness
        except OverflowError:
            return datetime.max.replace(tzinfo=timezone.utc)

    def age(self, now: datetime) -> timedelta:
        return now - self.built

    def label(self) -> str:
        return f'trust pack "{self.name}" version {self.version}'

    def describe(self, now: datetime) -> str:
        """``pack "port-of-laredo" version 7, built 2026-12-01T08:00:00Z (19 h ago), signed by did:key:...``"""
        signed = self.signer if self.signature_checked else f"{self.signer} (signature NOT checked)"
        return (f'pack "{self.name}" version {self.version}, built {_iso(self.built)} ({_ago(self.age(now))}), '
                f"signed by {signed}")


    def check(self, now: datetime, max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> CheckResult:
        """The ``trust_pack`` check of a report made at ``now``: passed, or an error if the
        pack is past its ``maxStaleness`` or built in the future."""
        data = {"name": self.name, "version": self.version, "built": _iso(self.built),
                "age_seconds": int(self.age(now).total_seconds()), "signer": self.signer,
                "maxStaleness": format_duration(self.max_staleness)}
        problem = _freshness_problem(self, now, max_clock_skew)
        if problem is not None:
            code, message = problem
            return CheckResult.error(CHECK, code, message, data=data)
        return CheckResult.passed(CHECK, self.describe(now), data=data)

    def mirror(self) -> Mirror:
        """The pack's DID documents and status lists as held copies (exact bytes, fetch times)."""
        held = {document_url(did): Held(entry.body, entry.fetched) for did, entry in self.did_documents.items()}
        held.update({url: Held(entry.body, entry.fetched) for url, entry in self.status_lists.items()})
        return Mirror(held=held, held_in=self.label())

    def loader(self) -> DocumentLoader:
        """The context loader: the bundled contexts and the pack's pinned ones.

        :raises PackError: the pack's contexts cannot be used."""
        if not self.contexts:
            return default_loader()
        with _materialized(self.contexts) as directory:
            try:
                return PinnedContextLoader.with_user_contexts(directory)
            except ContextIndexError as e:
                raise PackError(f"the pack's contexts cannot be used: {e.message}", code="PACK_MALFORMED") from None

    def schema_store(self) -> SchemaStore:
        """The shipped JSON Schemas and the pack's.

        :raises PackError: the pack's schemas cannot be used."""
        if not self.schemas:
            return default_schema_store()
        with _materialized(self.schemas) as directory:
            try:
                return SchemaStore.from_index(directory)
            except SchemaStoreError as e:
                raise PackError(f"the pack's schemas cannot be used: {e.message}", code="PACK_MALFORMED") from None

    def trust_policy(self) -> TrustPolicy | TrustPathPolicy:
        """The policy of the pack's policy document: a flat :class:`TrustPolicy`, or a
        :class:`~tradevc.verifier.trust.TrustPathPolicy` whose trust store is the pack's anchors.

        :raises PackError: it is not a trust policy."""
        try:
            return policy_from_document(
                self.policy, source=f'trust pack "{self.name}" version {self.version}',
                anchors=[(a.ref, a.credential) for a in self.anchors],
            )
        except ValueError as e:
            raise PackError(f"the pack's policy is not a trust policy: {e}", code="PACK_MALFORMED") from None

    def verifier(self, **kw: Any) -> "PackVerifier":
        """A :class:`PackVerifier` over this pack (keywords as :class:`PackVerifier`)."""
        return PackVerifier(self, **kw)


class _materialized:
    """A private temporary folder holding ``files`` (relative path -> bytes), for the readers
    that take a folder (contexts, schemas); they read everything at once, then it is removed."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self.directory = ""

    def __enter__(self) -> str:
        self.directory = tempfile.mkdtemp(prefix="tradevc-pack-")
        try:
            for name, data in self.files.items():
                path = Path(self.directory, *name.split("/"))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        except OSError as e:  # a name too long for this file system, a full disk...
            shutil.rmtree(self.directory, ignore_errors=True)
            raise PackError(f"cannot hold the pack's files in a temporary folder: {e.strerror or e}",
                            code="PACK_MALFORMED") from None
        return self.directory

    def __exit__(self, *exc: Any) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _freshness_problem(pack: TrustPack, now: datetime, skew: timedelta) -> tuple[str, str] | None:
    if pack.built > now + skew:
        return "PACK_FUTURE", (f'{pack.label()} was built {_iso(pack.built)}, {_age(pack.built - now)} in the future: '
                               "check this computer's clock, or the clock of the computer that built it")
    if now > pack.expires:
        return "PACK_STALE", (f"{pack.label()} was built {_iso(pack.built)} ({_age(pack.age(now))} ago) and may be "
                              f"used for {format_duration(pack.max_staleness)} only; it expired {_iso(pack.expires)}: "
                              "load a newer pack")
    return None


class PackVerifier(Verifier):
    """A :class:`~tradevc.verifier.Verifier` with no network over a :class:`TrustPack`: its
    policy is the pack's, DID documents and status lists are read only from the pack (and
    verified as online: the DID document must be the DID's, a status list must be signed by
    the credential's issuer, limits apply), contexts and schemas are the pack's. A status
    list missing from the pack makes that credential's status could-not-verify.

    A status list copy past its own freshness (its ``ttl``, by default 5 minutes, counted
    from when the pack fetched it) is used with a warning in the report, as a cached list
    under ``stale_status_if_error``, which is set to the pack's ``maxStaleness``; one past its
    ``validUntil`` does not verify (could not verify), as online.

    Every report gets a ``trust_pack`` check first: passed, naming the pack (name, version,
    build time, age, signer), or an error once the pack is past its ``maxStaleness``.
    """

    def __init__(
        self,
        pack: TrustPack,
        *,
        clock: Any = None,
        max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
        compatibility: Compatibility | None = None,
        challenges: ChallengeStore | None = None,
        limits: Limits | None = None,
    ) -> None:
        if not pack.signature_checked:
            raise PackError(f"{pack.label()} was read without checking its signature (for display only); load it "
                            "with load_pack and the trusted pack signers to verify with it", code="PACK_NO_SIGNER")
        super().__init__(
            policy=pack.trust_policy(), mirror=pack.mirror(), network=False, loader=pack.loader(),
            schemas=pack.schema_store(), stale_status_if_error=pack.max_staleness, clock=clock,
            max_clock_skew=max_clock_skew, compatibility=compatibility, challenges=challenges, limits=limits,
        )
        self.pack = pack

    def _mark(self, result: VerificationResult, now: datetime) -> None:
        result.checks.insert(0, self.pack.check(now, self.max_clock_skew))

    def verify_credential(self, document: Any, *, now: datetime | None = None) -> VerificationResult:
        now = now or self.clock()
        result = super().verify_credential(document, now=now)
        self._mark(result, now)
        return result

    def verify_presentation(
        self, document: Any, *, challenge: str, domain: Any, now: datetime | None = None,
        before_use: Callable[[], None] | None = None,
    ) -> PresentationResult:
        now = now or self.clock()
        result = super().verify_presentation(document, challenge=challenge, domain=domain, now=now,
                                             before_use=before_use)
        self._mark(result, now)
        return result

    def verify_document(
        self, document: Any, *, challenge: str | None = None, domain: Any = None, now: datetime | None = None
    ) -> VerificationResult:
        now = now or self.clock()
        result = super().verify_document(document, challenge=challenge, domain=domain, now=now)
        self._mark(result, now)
        return result


# -- reading ---------------------------------------------------------------------------------------


def _signing_input(protected: str, pack: Mapping[str, Any]) -> bytes:
    return protected.encode("ascii") + b"." + base64url_encode(rfc8785.dumps(pack)).encode("ascii")


def read_pack(
    data: bytes,
    *,
    trusted_signers: Iterable[str] | None,
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    check_freshness: bool = True,
    where: str = "the pack",
    max_staleness_limit: timedelta = MAX_STALENESS_LIMIT,
) -> TrustPack:
    """Read a pack from its bytes. With ``trusted_signers`` (DIDs) its signature must be by
    one of them and verify; with None it is not checked (``signature_checked`` False: for
    showing a pack, never for verifying with it). With ``check_freshness`` a pack past its
    ``maxStaleness`` or built in the future (beyond ``max_clock_skew``) is refused, and so is
    one whose ``maxStaleness`` is longer than ``max_staleness_limit`` (the verifier's cap).

    :raises PackError: see the class; the message says what failed and what to do.
    """
    now = now or datetime.now(timezone.utc)
    try:
        document = loads(data, limits=_PACK_LIMITS)
    except InvalidDocument as e:
        raise PackError(f"{where} is not a trust pack (not JSON: {e.message}); rebuild it with 'vc-verify pack build'",
                        code="PACK_MALFORMED") from None
    if not isinstance(document, dict) or set(document) != {"pack", "signature"} or not isinstance(
        document.get("pack"), dict
    ) or not isinstance(document.get("signature"), dict):
        raise PackError(f'{where} is not a trust pack (a JSON object with "pack" and "signature")',
                        code="PACK_MALFORMED")
    if _serialize(document) != bytes(data):
        raise PackError(f"{where} was altered: it is not byte for byte as 'vc-verify pack build' wrote it "
                        "(a signed pack must be kept as it is); get a fresh copy", code="PACK_SIGNATURE")
    pack, signature = document["pack"], document["signature"]
    number = _integral_float(pack)
    if number is not None:
        raise PackError(f"{where} holds the number {number!r}, which its signature does not tell apart from "
                        f"{int(number)} (JCS writes both alike): the pack was altered; refused", code="PACK_SIGNATURE")
    protected, value = signature.get("protected"), signature.get("signature")
    if not isinstance(protected, str) or not isinstance(value, str) or set(signature) != {"protected", "signature"}:
        raise PackError(f'{where}: its signature must be {{"protected", "signature"}}', code="PACK_MALFORMED")
    try:
        header = loads(base64url_decode(protected))
        signature_bytes = base64url_decode(value)
    except InvalidDocument as e:
        raise PackError(f"{where}: its signature cannot be read ({e.message}); the pack was altered",
                        code="PACK_SIGNATURE") from None
    if not isinstance(header, dict) or header.get("typ") != PACK_TYP or not isinstance(header.get("kid"), str):
        raise PackError(f"{where}: its signature header is not a trust pack's (typ {PACK_TYP}, kid)",
                        code="PACK_SIGNATURE")
    kid = header["kid"]
    signer = kid.split("#", 1)[0]
    checked = False
    if trusted_signers is not None:
        trusted = frozenset(trusted_signers)
        if not trusted:
            raise PackError(f"no trusted pack signer was given, so {where} cannot be trusted: pass --pack-signer "
                            f"DID (or set {SIGNERS_ENV}) with the did:key of the customs key that signs your packs",
                            code="PACK_NO_SIGNER")
        if signer not in trusted:
            raise PackError(f"{where} is signed by {signer}, which is not a trusted pack signer (trusted: "
                            f"{', '.join(sorted(trusted))}); refused", code="PACK_SIGNATURE")
        key = _signer_key(kid)
        if header.get("alg") != ALGORITHMS.get(key.key_type) or set(header) - {"alg", "kid", "typ"}:
            raise PackError(f"{where}: its signature header has alg {header.get('alg')!r} (or members) that do not "
                            f"fit the {key.key_type} key of {signer}", code="PACK_SIGNATURE")
        try:
            key.verify(signature_bytes, _signing_input(protected, pack))
        except InvalidSignature:
            raise PackError(f"{where}: the signature of {signer} does not verify: the pack was altered after it was "
                            "signed (or signed by another key); refused", code="PACK_SIGNATURE") from None
        checked = True
    trust_pack = _parse(pack, signer, checked, where)
    if check_freshness:
        if trust_pack.max_staleness > max_staleness_limit:
            raise PackError(f"{where} may be used for {format_duration(trust_pack.max_staleness)} after it is built, "
                            f"longer than this verifier accepts ({format_duration(max_staleness_limit)}): rebuild it "
                            "with a shorter --max-staleness", code="PACK_MALFORMED")
        problem = _freshness_problem(trust_pack, now, max_clock_skew)
        if problem is not None:
            raise PackError(f"{where}: {problem[1]}", code=problem[0])
    return trust_pack


def _integral_float(value: Any) -> float | None:
    """A float with an integral value (``3.0``, ``-0.0``) in ``value``, or None. JCS writes it
    as the integer (``3``, ``0``), so a pack's signature cannot tell the two apart: a pack file
    could be altered from one to the other, and the reader would see another value than was
    signed. :func:`build_pack` refuses to pack one; :func:`read_pack` refuses a pack with one."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float) and item.is_integer():
            return item
    return None


def load_pack(
    path: str | os.PathLike[str],
    *,
    trusted_signers: Iterable[str],
    now: datetime | None = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    max_staleness_limit: timedelta = MAX_STALENESS_LIMIT,
) -> TrustPack:
    """Read the pack at ``path`` for verification: signed by one of ``trusted_signers``
    (did:key DIDs, given from outside the pack), unaltered, not past its ``maxStaleness``
    at ``now`` and not built in the future, and with a ``maxStaleness`` no longer than
    ``max_staleness_limit``.

    >>> # pack = load_pack("port-of-laredo.pack", trusted_signers=["did:key:z6Mk..."])
    >>> # result = pack.verifier().verify_credential(credential)

    :raises PackError: the pack cannot be read or is refused (see :class:`PackError`).
    """
    signers = trusted_signers_from(trusted_signers)
    return read_pack(_read_pack_file(path), trusted_signers=signers, now=now, max_clock_skew=max_clock_skew,
                     where=str(path), max_staleness_limit=max_staleness_limit)


def inspect_pack(
    path: str | os.PathLike[str], *, trusted_signers: Iterable[str] | None = None
) -> TrustPack:
    """Read the pack at ``path`` for display (``pack show``, ``pack diff``): its signature is
    checked if ``trusted_signers`` are given, and its age is not judged.

    :raises PackError: it cannot be read, or (with signers) its signature is refused."""
    signers = None if trusted_signers is None else trusted_signers_from(trusted_signers)
    return read_pack(_read_pack_file(path), trusted_signers=signers, check_freshness=False, where=str(path))


def _read_pack_file(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(PACK_MAX_BYTES + 1)
    except IsADirectoryError:
        raise PackError(f"{path} is a directory, not a trust pack", code="PACK_UNREADABLE") from None
    except OSError as e:
        raise PackError(f"cannot read the trust pack {path}: {e.strerror or e}", code="PACK_UNREADABLE") from None
    if len(data) > PACK_MAX_BYTES:
        raise PackError(f"{path} is over the {PACK_MAX_BYTES}-byte limit of a trust pack", code="PACK_UNREADABLE")
    return data


def _parse(pack: dict[str, Any], signer: str, checked: bool, where: str) -> TrustPack:
    def bad(what: str) -> PackError:
        return PackError(f"{where} is malformed: {what}", code="PACK_MALFORMED")

    if pack.get("type") != PACK_TYPE:
        raise bad(f"its type is {pack.get('type')!r}, not {PACK_TYPE}")
    if pack.get("formatVersion") != FORMAT_VERSION:
        raise bad(f"format version {pack.get('formatVersion')!r} is not supported (this tradevc reads "
                  f"{FORMAT_VERSION}); update tradevc or rebuild the pack")
    name, version = pack.get("name"), pack.get("version")
    if not isinstance(name, str) or not name:
        raise bad("no name")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad("version must be a positive integer")
    built = _time(pack.get("built"), f"{where}: built")
    try:
        max_staleness = parse_duration(pack.get("maxStaleness"))  # type: ignore[arg-type]
    except ValueError as e:
        raise bad(f"maxStaleness: {e}") from None
    policy = pack.get("policy")
    if not isinstance(policy, dict):
        raise bad("no policy object")
    anchors = []
    raw_anchors = pack.get("anchors", [])
    if not isinstance(raw_anchors, list):
        raise bad("anchors must be a list")
    for i, item in enumerate(raw_anchors):
        if not isinstance(item, dict) or not isinstance(item.get("ref"), str) or not isinstance(
            item.get("credential"), (dict, str)
        ):
            raise bad(f"anchors[{i}] must be {{ref, credential}}")
        anchors.append(Anchor(item["ref"], item["credential"]))

    def entries(member: str) -> dict[str, PackEntry]:
        raw = pack.get(member, {})
        if not isinstance(raw, dict):
            raise bad(f"{member} must be an object")
        out = {}
        for key, item in raw.items():
            if not (isinstance(item, dict) and isinstance(item.get("url"), str) and isinstance(item.get("body"), str)):
                raise bad(f"{member}[{key!r}] must have a url and a body")
            media_type = item.get("mediaType")
            if media_type is not None and not isinstance(media_type, str):
                raise bad(f"{member}[{key!r}].mediaType must be a string")
            entry = PackEntry(item["url"], item["body"].encode("utf-8"), media_type,
                              _time(item.get("fetched"), f"{member}[{key!r}].fetched"))
            if item.get("sha256") != entry.sha256:
                raise bad(f"{member}[{key!r}]: its body does not match its sha256")
            out[key] = entry
        return out

    did_documents, status_lists = entries("didDocuments"), entries("statusLists")
    for member, held in (("didDocuments", did_documents), ("statusLists", status_lists)):
        for key, entry in held.items():
            if entry.fetched > built:  # a copy's freshness runs from its fetch time: not beyond the build
                raise bad(f"{member}[{key!r}] was fetched {_iso(entry.fetched)}, after the pack was built "
                          f"({_iso(built)})")
    for did, entry in did_documents.items():
        try:
            if document_url(did) != entry.url:
                raise bad(f"didDocuments[{did!r}] has url {entry.url}, not its DID's")
        except ResolutionError:
            raise bad(f"didDocuments has {did!r}, which is not a did:web DID") from None
    for url, entry in status_lists.items():
        if entry.url != url:
            raise bad(f"statusLists[{url!r}] has url {entry.url}")
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise bad(f"statusLists[{url!r}]: a status list is read from an https URL")

    def folder(member: str) -> dict[str, bytes] | None:
        raw = pack.get(member)
        if raw is None:
            return None
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()) or "index.json" not in raw:
            raise bad(f"{member} must map file names (index.json among them) to their text")
        for name in raw:
            _check_relative(name, lambda message: bad(f"{member}: {message}"))
            parts = name.split("/")
            folder = next((p for p in ("/".join(parts[:i]) for i in range(1, len(parts))) if p in raw), None)
            if folder is not None:
                raise bad(f"{member}: {folder!r} is a file, so {name!r} cannot be in it")
        # the index is read from a folder the pack's files are written to: each file it names must
        # be one of them, never a path outside (the border post's own files, /dev/zero...)
        try:
            index = loads(raw["index.json"])
        except InvalidDocument as e:
            raise bad(f"{member}: index.json is not JSON: {e.message}") from None
        listed = index.get(member) if isinstance(index, dict) else None
        for entry in listed if isinstance(listed, list) else []:
            name = entry.get("file") if isinstance(entry, dict) else None
            if isinstance(name, str) and (name == "index.json" or name not in raw):
                raise bad(f"{member}: index.json names {name!r}, which is not a file of the pack")
        return {k: v.encode("utf-8") for k, v in raw.items()}

    return TrustPack(
        name=name, version=version, built=built, max_staleness=max_staleness, policy=policy, anchors=anchors,
        did_documents=did_documents, status_lists=status_lists, contexts=folder("contexts"),
        schemas=folder("schemas"), signer=signer, signature_checked=checked, payload=pack,
    )


def _check_relative(name: str, error: Any) -> None:
    parts = name.split("/")
    if (not name or name.startswith("/") or "\\" in name or "\x00" in name
            or any(p in ("", ".", "..") for p in parts)):
        raise error(f"{name!r} is not a plain relative file name")


# -- building --------------------------------------------------------------------------------------


@dataclass
class BuildReport:
    """What :func:`build_pack` made: the pack (read back from ``data``, its signature checked),
    the bytes to write, and what it fetched, reused from the previous pack while still fresh,
    or kept from it because it could not be fetched (with why)."""

    pack: TrustPack
    data: bytes
    fetched: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _json_of(document: Any) -> dict[str, Any] | None:
    """The JSON of a credential or presentation, without verifying anything: the object
    itself, a token's payload (or its ``vc`` / ``vp`` claim), an envelope's token's."""
    token: Any = document
    if isinstance(document, dict):
        if document.get("type") not in ("EnvelopedVerifiableCredential", "EnvelopedVerifiablePresentation"):
            return document
        token = document.get("id", "")
        token = token.split(",", 1)[1] if isinstance(token, str) and "," in token else None
    if not isinstance(token, str):
        return None
    try:
        payload = parse_compact_jws(token).payload
    except VcError:
        return None
    inner = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload.get("vp")
    return inner if isinstance(inner, dict) else payload


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            out.append(item["id"])
    return out


def _what_credentials_need(documents: Iterable[Any], *, subjects: bool) -> tuple[list[str], list[str]]:
    """The DIDs (issuers; holders; with ``subjects`` the subjects too) and status list URLs
    that the credentials and presentations of ``documents`` name."""
    dids: list[str] = []
    lists: list[str] = []
    pending = list(documents)
    while pending:
        credential = _json_of(pending.pop(0))
        if credential is None:
            continue
        dids.extend(_ids(credential.get("issuer")) + _ids(credential.get("holder")))
        if subjects:
            dids.extend(_ids(credential.get("credentialSubject")))
        status = credential.get("credentialStatus")
        for entry in status if isinstance(status, list) else [status]:
            if isinstance(entry, dict) and isinstance(entry.get("statusListCredential"), str):
                lists.append(entry["statusListCredential"])
        inner = credential.get("verifiableCredential")
        pending.extend(inner if isinstance(inner, list) else [inner] if inner is not None else [])
    return [d for d in dids if d.startswith("did:")], lists


def _policy_dids(policy: Mapping[str, Any]) -> list[str]:
    dids: list[str] = []
    issuers = policy.get("trustedIssuers")
    if isinstance(issuers, Mapping):
        dids.extend(k for k in issuers if isinstance(k, str))
    elif isinstance(issuers, list):
        dids.extend(str(i["did"]) for i in issuers if isinstance(i, Mapping) and isinstance(i.get("did"), str))
    roots = policy.get("roots")
    for root in roots if isinstance(roots, list) else []:
        if isinstance(root, str):
            dids.append(root)
        elif isinstance(root, Mapping):
            dids.extend(str(root[k]) for k in ("did", "id") if isinstance(root.get(k), str))
    marks = policy.get("recordedMarks")
    for mark in marks if isinstance(marks, list) else []:
        if isinstance(mark, Mapping) and isinstance(mark.get("rightsHolder"), str):
            dids.append(mark["rightsHolder"])
    return [d for d in dids if d.startswith("did:")]


def _read_folder(directory: str | os.PathLike[str], what: str) -> dict[str, bytes]:
    """``index.json`` of a contexts or schemas folder and the files it lists."""
    index = Path(directory) / "index.json"
    raw = _read_file(index, f"the {what} index")
    try:
        listed = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise PackError(f"{index} is not JSON: {e}", code="PACK_INPUT") from None
    files = {"index.json": raw}
    entries = listed.get(what, []) if isinstance(listed, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(name, str):
            _check_relative(name, lambda m: PackError(f"{index}: {m}", code="PACK_INPUT"))
            files[name] = _read_file(Path(directory) / name, f"the {what} file")
    for name, data in files.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise PackError(f"{Path(directory) / name} is not UTF-8 text", code="PACK_INPUT") from None
    return files


def _list_freshness(entry: PackEntry) -> datetime:
    """Until when a status list copy is fresh: its fetch time + its ``ttl`` (default 5
    minutes), or its ``validUntil`` if earlier."""
    fresh = entry.fetched + DEFAULT_TTL
    try:
        credential = _json_of(document_of_file(entry.body))
    except VcError:
        return entry.fetched
    if credential is None:
        return entry.fetched
    subject = credential.get("credentialSubject")
    ttl = subject.get("ttl") if isinstance(subject, dict) else None
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0:
        try:
            fresh = entry.fetched + timedelta(milliseconds=ttl)
        except OverflowError:
            fresh = datetime.max.replace(tzinfo=timezone.utc)
    valid_until = credential.get("validUntil")
    if isinstance(valid_until, str):
        try:
            fresh = min(fresh, datetime.fromisoformat(valid_until.replace("Z", "+00:00")))
        except (ValueError, TypeError):
            pass
    return fresh


def build_pack(
    policy_path: str | os.PathLike[str],
    key: KeyPair,
    *,
    name: str | None = None,
    previous: TrustPack | None = None,
    max_staleness: timedelta | None = None,
    credentials: Sequence[str | os.PathLike[str]] = (),
    contexts: str | os.PathLike[str] | None = None,
    schemas: str | os.PathLike[str] | None = None,
    session: requests.Session | None = None,
    allow_hosts: Iterable[str] = (),
    mirror: Mirror | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    refetch_after: timedelta = DEFAULT_REFETCH_AFTER,
    refetch_all: bool = False,
    now: datetime | None = None,
    max_staleness_limit: timedelta = MAX_STALENESS_LIMIT,
) -> BuildReport:
    """Build and sign a pack from the policy file at ``policy_path`` with ``key``.

    It holds the policy as given, its anchors (``"anchors"``: credential file paths relative
    to the policy file, or inline credentials), the DID documents of the policy's DIDs
    (``trustedIssuers``, ``roots``), of the anchors' issuers and subjects and of the issuers
    (and holders) of ``credentials``, the status lists their ``credentialStatus`` and the
    policy's ``"statusLists"`` name, and the ``contexts`` and ``schemas`` folders. did:key and
    did:jwk need no document. Fetched over HTTPS through ``session`` (``allow_hosts``,
    ``mirror`` as for :class:`~tradevc.vc.retrieval.http.HttpsFetcher`).

    With ``previous`` (read with :func:`inspect_pack` and this key as trusted signer), the
    version is one more, name, maxStaleness, contexts and schemas default to its, and its
    entries still fresh are reused (a DID document fetched less than ``refetch_after`` ago, a
    status list within its ``ttl`` and ``validUntil``); a document that cannot be fetched is
    kept from it, with its old fetch time, and reported in :attr:`BuildReport.kept`. With
    ``refetch_all`` nothing is reused, but what cannot be fetched is still kept.

    :raises PackError: an input cannot be used (a ``max_staleness`` longer than
        ``max_staleness_limit``, which verifiers refuse by default...), a document cannot be
        fetched (and the previous pack has no copy), or ``previous`` was not signed by ``key``.
    """
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    staleness = max_staleness or (previous.max_staleness if previous is not None else DEFAULT_MAX_STALENESS)
    if staleness > max_staleness_limit:
        raise PackError(f"a pack may be used for at most {format_duration(max_staleness_limit)} after it is built "
                        f"(verifiers refuse longer), not {format_duration(staleness)}", code="PACK_INPUT")
    if previous is not None and (not previous.signature_checked or previous.signer != key.did):
        raise PackError(f"the previous pack was signed by {previous.signer}, not by this key ({key.did}); "
                        "a pack is rebuilt only with the key that signed it", code="PACK_SIGNATURE")
    raw_policy = _read_file(policy_path, "the policy")
    try:
        policy = loads(raw_policy)
    except InvalidDocument as e:
        raise PackError(f"the policy {policy_path} is not JSON: {e.message}", code="PACK_INPUT") from None
    if not isinstance(policy, dict):
        raise PackError(f"the policy {policy_path} must be a JSON object", code="PACK_INPUT")
    base = Path(policy_path).parent
    try:
        anchors = [Anchor(ref, credential) for ref, credential in read_trust_store(policy, base)]
        policy_from_document(policy, source=str(policy_path), anchors=[(a.ref, a.credential) for a in anchors])
    except ValueError as e:
        raise PackError(f"the policy {policy_path} is not a trust policy: {e}", code="PACK_INPUT") from None
    given = [_read_credential(path, "credential") for path in credentials]
    status_urls = policy.get("statusLists", [])
    if not isinstance(status_urls, list) or not all(isinstance(u, str) for u in status_urls):
        raise PackError(f'the policy {policy_path}: "statusLists" must be a list of URLs', code="PACK_INPUT")

    # the folders first: checked as a verifier will read them, before anything is fetched
    context_files = _read_folder(contexts, "contexts") if contexts is not None else (
        previous.contexts if previous is not None else None)
    schema_files = _read_folder(schemas, "schemas") if schemas is not None else (
        previous.schemas if previous is not None else None)
    _check_folders(context_files, schema_files)

    anchor_dids, anchor_lists = _what_credentials_need([a.credential for a in anchors], subjects=True)
    given_dids, given_lists = _what_credentials_need(given, subjects=False)
    dids = list(dict.fromkeys(_policy_dids(policy) + anchor_dids + given_dids))
    lists = list(dict.fromkeys(status_urls + anchor_lists + given_lists))

    report = BuildReport(pack=None, data=b"")  # type: ignore[arg-type]  # filled in below
    allow = list(allow_hosts)
    did_fetcher = HttpsFetcher(session, timeout=timeout, max_bytes=DEFAULT_MAX_BYTES, mirror=mirror,
                               allow_hosts=allow)
    list_fetcher = HttpsFetcher(session, timeout=timeout, max_bytes=STATUS_LIST_MAX_BYTES, mirror=mirror,
                                allow_hosts=allow)
    old_docs = previous.did_documents if previous is not None else {}
    old_lists = previous.status_lists if previous is not None else {}

    did_documents: dict[str, PackEntry] = {}
    for did in dids:
        method = did.split(":", 2)[1] if did.count(":") >= 2 else ""
        if method in ("key", "jwk"):
            continue
        if method != "web":
            raise PackError(f"{did}: DID method did:{method} cannot be packed (did:web, did:key and did:jwk can)",
                            code="PACK_INPUT")
        old = old_docs.get(did)
        if old is not None and old.fetched > now:
            old = None  # fetched in this build's future (a clock was wrong): neither reused nor kept
        if old is not None and not refetch_all and now - old.fetched < refetch_after:
            did_documents[did] = old
            report.reused.append(f"DID document of {did} (fetched {_iso(old.fetched)})")
            continue
        try:
            did_documents[did] = _fetch_did_document(did, did_fetcher, now)
            report.fetched.append(f"DID document of {did}")
        except (ResolutionError, PackError) as e:
            if old is None:
                raise PackError(f"cannot fetch the {_naming(e.message, f'DID document of {did}')}; "
                                "the pack was not built "
                                "(fix the network or the policy, or rebuild with --previous from a pack that has it)",
                                code="PACK_FETCH") from None
            if now - old.fetched > staleness:
                # a verifier does not judge a DID document's age: its keys would be trusted however
                # long ago they were replaced, so a copy is kept only while the pack itself could be
                raise PackError(f"cannot fetch the {_naming(e.message, f'DID document of {did}')}; the copy in "
                                f"version {previous.version if previous else '?'} was fetched {_iso(old.fetched)}, "
                                f"longer ago than the pack's maxStaleness ({format_duration(staleness)}), so it is not "
                                "kept; the pack was not built (fix the network or the policy)", code="PACK_FETCH")
            did_documents[did] = old
            report.kept.append(f"DID document of {did}: kept from version {previous.version if previous else '?'} "
                               f"(fetched {_iso(old.fetched)}), as it cannot be fetched: {e.message}")

    status_lists: dict[str, PackEntry] = {}
    for url in lists:
        old = old_lists.get(url)
        if old is not None and old.fetched > now:
            old = None  # fetched in this build's future (a clock was wrong): neither reused nor kept
        if old is not None and not refetch_all and now < _list_freshness(old):
            status_lists[url] = old
            report.reused.append(f"status list {url} (fetched {_iso(old.fetched)})")
            continue
        try:
            status_lists[url] = _fetch_status_list(url, list_fetcher, now)
            report.fetched.append(f"status list {url}")
        except (ResolutionError, PackError) as e:
            if old is None:
                raise PackError(f"cannot fetch the {_naming(e.message, f'status list {url}', 'status list: ')}; "
                                "the pack was not built "
                                "(fix the network, or rebuild with --previous from a pack that has it)",
                                code="PACK_FETCH") from None
            status_lists[url] = old
            report.kept.append(f"status list {url}: kept from version {previous.version if previous else '?'} "
                               f"(fetched {_iso(old.fetched)}), as it cannot be fetched: {e.message}")

    pack_name = name or (previous.name if previous is not None else None)
    if not pack_name:
        raise PackError("a pack needs a name (e.g. port-of-laredo)", code="PACK_INPUT")
    payload: dict[str, Any] = {
        "type": PACK_TYPE,
        "formatVersion": FORMAT_VERSION,
        "name": pack_name,
        "version": previous.version + 1 if previous is not None else 1,
        "built": _iso(now),
        "maxStaleness": format_duration(staleness),
        "policy": policy,
        "anchors": [{"ref": a.ref, "credential": a.credential} for a in anchors],
        "didDocuments": {did: e.to_json() for did, e in did_documents.items()},
        "statusLists": {url: e.to_json() for url, e in status_lists.items()},
        "contexts": {k: v.decode("utf-8") for k, v in context_files.items()} if context_files else None,
        "schemas": {k: v.decode("utf-8") for k, v in schema_files.items()} if schema_files else None,
    }
    number = _integral_float(payload)
    if number is not None:
        raise PackError(f"the policy or an anchor holds the number {number!r}, which a pack's signature cannot tell "
                        f"apart from {int(number)}: write it as {int(number)} (or as a string)", code="PACK_INPUT")
    header = {"alg": ALGORITHMS[key.key_type], "kid": key.verification_method, "typ": PACK_TYP}
    protected = base64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    signature = base64url_encode(key.sign(_signing_input(protected, payload)))
    data = _serialize({"pack": payload, "signature": {"protected": protected, "signature": signature}})
    pack = read_pack(data, trusted_signers={key.did}, now=now, where="the new pack",
                     max_staleness_limit=max_staleness_limit)
    report.pack, report.data = pack, data
    return report


def _naming(message: str, what: str, prefix: str | None = None) -> str:
    """``what: message``, without saying ``what`` twice when the message starts with it (or
    with ``prefix``, which is then replaced by it)."""
    for start in (what, prefix):
        if start and message.startswith(start):
            return what + ": " + message[len(start):].lstrip(": ")
    return f"{what}: {message}"


def _check_folders(contexts: dict[str, bytes] | None, schemas: dict[str, bytes] | None) -> None:
    """:raises PackError: (``PACK_INPUT``) the contexts or schemas folder cannot be used."""
    if contexts:
        with _materialized(contexts) as directory:
            try:
                PinnedContextLoader.with_user_contexts(directory)
            except ContextIndexError as e:
                raise PackError(f"the contexts cannot be used: {e.message}", code="PACK_INPUT") from None
    if schemas:
        with _materialized(schemas) as directory:
            try:
                SchemaStore.from_index(directory)
            except SchemaStoreError as e:
                raise PackError(f"the schemas cannot be used: {e.message}", code="PACK_INPUT") from None


def _read_credential(path: str | os.PathLike[str], what: str) -> Any:
    data = _read_file(path, f"the {what}")
    try:
        return document_of_file(data)
    except InvalidDocument as e:
        raise PackError(f"the {what} {path} is neither JSON nor a compact JWS: {e.message}",
                        code="PACK_INPUT") from None


def _text(body: bytes, what: str) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise PackError(f"{what} is not UTF-8 text", code="PACK_FETCH") from None


def _fetch_did_document(did: str, fetcher: HttpsFetcher, now: datetime) -> PackEntry:
    url = document_url(did)
    fetched = fetcher.fetch(url, what=f"DID document of {did}", accept=JSON_TYPES)
    _text(fetched.body, f"the DID document of {did}")
    media_type = fetched.media_type
    # checked as a verifier will: the media type, I-JSON, the document is the DID's
    essence = (media_type or "").split(";", 1)[0].strip().lower()
    if media_type is not None and essence not in (
        "application/did+json", "application/did+ld+json", "application/json", "application/ld+json"
    ):
        raise PackError(f"{url} was served as {media_type!r}, not as a DID document", code="PACK_FETCH")
    held = Mirror(held={url: Held(fetched.body)})
    DidWebResolver(HttpsFetcher(mirror=held, network=False)).resolve(did)
    return PackEntry(url, fetched.body, media_type, now)


def _fetch_status_list(url: str, fetcher: HttpsFetcher, now: datetime) -> PackEntry:
    fetched = fetcher.fetch(url, what="status list", accept=LIST_MEDIA_TYPES)
    _text(fetched.body, f"the status list {url}")
    try:
        credential = _json_of(document_of_file(fetched.body))
    except InvalidDocument as e:
        raise PackError(f"{url} is neither JSON nor a compact JWS: {e.message}", code="PACK_FETCH") from None
    if credential is None or not isinstance(credential.get("credentialSubject"), dict):
        raise PackError(f"{url} is not a status list credential", code="PACK_FETCH")
    return PackEntry(url, fetched.body, fetched.media_type, now)


def write_pack(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a pack atomically (a crash leaves the old file or the new one), mode 0600.

    :raises OSError: it cannot be written."""
    write_atomic(path, data, mode=0o600)


# -- showing and comparing -------------------------------------------------------------------------


def _list_bits(entry: PackEntry) -> tuple[str | None, BitstringStatusList | None]:
    """The purpose and bits of a status list copy (not verified: the pack's signature covers it)."""
    try:
        credential = _json_of(document_of_file(entry.body))
    except VcError:
        return None, None
    subject = credential.get("credentialSubject") if credential is not None else None
    if not isinstance(subject, dict) or not isinstance(subject.get("encodedList"), str):
        return None, None
    purpose = subject.get("statusPurpose") if isinstance(subject.get("statusPurpose"), str) else None
    encoded = subject["encodedList"]
    try:
        return purpose, BitstringStatusList.decode(encoded if encoded.startswith("u") else "u" + encoded)
    except VcError:
        return purpose, None


def describe_pack(pack: TrustPack, now: datetime | None = None) -> dict[str, Any]:
    """What ``pack show`` prints, as JSON."""
    now = now or datetime.now(timezone.utc)
    lists = []
    for url, entry in pack.status_lists.items():
        purpose, bits = _list_bits(entry)
        lists.append({"url": url, "fetched": _iso(entry.fetched), "purpose": purpose, "sha256": entry.sha256,
                      "set": bits.count_set() if bits is not None else None,
                      "freshUntil": _iso(_list_freshness(entry))})
    try:
        issuers = _trusted(pack)
    except PackError:
        issuers = []
    return {
        "name": pack.name, "version": pack.version, "built": _iso(pack.built),
        "ageSeconds": int(pack.age(now).total_seconds()), "age": _ago(pack.age(now)),
        "maxStaleness": format_duration(pack.max_staleness),
        "expires": _iso(pack.expires), "expired": now > pack.expires,
        "signer": pack.signer, "signatureChecked": pack.signature_checked,
        "counts": {"trustedIssuers": len(issuers), "anchors": len(pack.anchors),
                   "didDocuments": len(pack.did_documents), "statusLists": len(pack.status_lists),
                   "contexts": max(0, len(pack.contexts or {}) - 1), "schemas": max(0, len(pack.schemas or {}) - 1)},
        "trustedIssuers": issuers,
        "didDocuments": [{"did": did, "url": e.url, "fetched": _iso(e.fetched), "sha256": e.sha256}
                         for did, e in pack.did_documents.items()],
        "anchors": [a.ref for a in pack.anchors],
        "statusLists": lists,
    }


def _trusted(pack: TrustPack) -> list[str]:
    """The DIDs the pack's policy trusts directly: its flat issuers and its roots."""
    policy = pack.trust_policy()
    if isinstance(policy, TrustPathPolicy):
        flat = policy.flat
        return sorted({d for d in _policy_dids(pack.policy) if policy.roots_of(d) or (flat and flat.issuer(d))})
    return sorted(d for d in _policy_dids(pack.policy) if policy.issuer(d) is not None)


def _methods(entry: PackEntry) -> dict[str, str]:
    """Verification method id -> its JSON (canonical), from a DID document copy."""
    try:
        document = loads(entry.body)
    except VcError:
        return {}
    did = document.get("id") if isinstance(document, dict) else None
    out: dict[str, str] = {}
    if not isinstance(document, dict):
        return out
    for rel in ("verificationMethod", "assertionMethod", "authentication"):
        for method in document.get(rel) or []:
            if isinstance(method, dict) and isinstance(method.get("id"), str):
                vm_id = f"{did}{method['id']}" if method["id"].startswith("#") else method["id"]
                out[vm_id] = rfc8785.dumps({k: v for k, v in method.items() if k != "id"}).decode("utf-8")
    return out


def _anchor_key(anchor: Anchor) -> str:
    credential = _json_of(anchor.credential)
    if credential is not None and isinstance(credential.get("id"), str):
        return str(credential["id"])
    return "sha256:" + _sha256(rfc8785.dumps(anchor.credential))


def _changed_bits(old: BitstringStatusList, new: BitstringStatusList) -> tuple[list[int], list[int]]:
    """Indexes whose bit went 0 -> 1 and 1 -> 0 (bit positions, as a status size of 1), in
    time linear in the lists' length (only the bytes that differ are looked into)."""
    a, b = old.to_bytes(), new.to_bytes()
    width = max(len(a), len(b))
    a, b = a.ljust(width, b"\0"), b.ljust(width, b"\0")
    newly_set: list[int] = []
    cleared: list[int] = []
    for offset, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        for bit in range(8):  # bit 0 is the most significant (the spec's order)
            mask = 0x80 >> bit
            if y & mask and not x & mask:
                newly_set.append(offset * 8 + bit)
            elif x & mask and not y & mask:
                cleared.append(offset * 8 + bit)
    return newly_set, cleared


def diff_packs(old: TrustPack, new: TrustPack) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: issuers (trusted by the policy, or with a DID
    document in the pack) added, removed, or changed (their DID document's bytes: which
    verification methods were added, removed or replaced), anchors added and removed, status
    lists added and removed, and for the lists in both, the indexes newly set (revoked,
    suspended... by the list's purpose) and cleared (reinstated)."""

    def issuers(pack: TrustPack) -> set[str]:
        return set(_policy_dids(pack.policy)) | set(pack.did_documents)

    old_issuers, new_issuers = issuers(old), issuers(new)
    changed = []
    for did in sorted(old_issuers & new_issuers):
        a, b = old.did_documents.get(did), new.did_documents.get(did)
        if a is None or b is None or a.sha256 == b.sha256:
            continue
        ma, mb = _methods(a), _methods(b)
        changed.append({
            "did": did,
            "methodsAdded": sorted(set(mb) - set(ma)),
            "methodsRemoved": sorted(set(ma) - set(mb)),
            "methodsReplaced": sorted(k for k in set(ma) & set(mb) if ma[k] != mb[k]),
        })
    old_anchors = {_anchor_key(a): a.ref for a in old.anchors}
    new_anchors = {_anchor_key(a): a.ref for a in new.anchors}
    revocations: list[dict[str, Any]] = []
    for url in sorted(set(old.status_lists) & set(new.status_lists)):
        a, b = old.status_lists[url], new.status_lists[url]
        if a.sha256 == b.sha256:
            continue
        purpose_a, bits_a = _list_bits(a)
        purpose_b, bits_b = _list_bits(b)
        if bits_a is None or bits_b is None:
            revocations.append({"url": url, "purpose": purpose_b, "error": "a copy cannot be decoded"})
            continue
        newly_set, cleared = _changed_bits(bits_a, bits_b)
        if newly_set or cleared or purpose_a != purpose_b:
            revocations.append({"url": url, "purpose": purpose_b, "newlySet": newly_set, "cleared": cleared})
    return {
        "old": {"name": old.name, "version": old.version, "built": _iso(old.built),
                "signer": old.signer, "signatureChecked": old.signature_checked},
        "new": {"name": new.name, "version": new.version, "built": _iso(new.built),
                "signer": new.signer, "signatureChecked": new.signature_checked},
        "policyChanged": rfc8785.dumps(old.policy) != rfc8785.dumps(new.policy),
        "issuers": {"added": sorted(new_issuers - old_issuers), "removed": sorted(old_issuers - new_issuers),
                    "changed": changed},
        "anchors": {"added": sorted(new_anchors[k] for k in set(new_anchors) - set(old_anchors)),
                    "removed": sorted(old_anchors[k] for k in set(old_anchors) - set(new_anchors))},
        "statusLists": {"added": sorted(set(new.status_lists) - set(old.status_lists)),
                        "removed": sorted(set(old.status_lists) - set(new.status_lists)),
                        "changed": revocations},
    }
