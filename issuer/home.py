"""The issuer's home directory: profile, keys encrypted at rest, and the issuer's DID.

Layout (directory mode 0700, files 0600)::

    issuer.json        profile: name, DID, status base URL, default cryptosuite, key records
    keys/<n>.key       each signing key, PKCS#8 sealed under the passphrase (tradevc.vc.sealed:
                       scrypt n=2**17, AES-256-GCM, a versioned header)
    registry.sqlite    issued credentials, status list entries, and what was last published
                       of each list (tradevc.issuer.registry)

Homes made before keys were sealed hold ``keys/<n>.pem``: PKCS#8 PEM encrypted with PBKDF2 at
2048 iterations. They still open; the first time the passphrase unlocks such a key, every key
file of the home still in that format (or sealed at a lower scrypt cost than the default) is
sealed again, in place and atomically, under the same name, so a process reading the file at
that moment gets the old or the new one, and both open with the passphrase.

A did:web issuer's DID document lists every key it has not removed: the current one under
``authentication`` and ``assertionMethod``, retired ones under ``assertionMethod`` only, so
credentials signed before a rotation keep verifying until the issuer removes the old key on
purpose. A did:key issuer's DID is its key, so it cannot rotate.

The home is private, and is checked whenever it is opened. Refused (:class:`IssuerHomeUnsafe`,
nothing is used): a home or ``keys/`` folder that group or others may write to (they could
have swapped the profile or a key), and a profile, key or registry file that is a symbolic
link or not a regular file. Repaired with an
:class:`~tradevc.vc.atomicfile.UnsafeModeWarning`: such a file that group or others may read
or write is made 0600 (a key is encrypted, but a copy can be attacked offline: consider
rotating it).
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from tradevc.vc.atomicfile import UnsafeFileError, check_private_dir, read_private, write_atomic
from tradevc.vc.errors import KeyMaterialError
from tradevc.vc.retrieval.did.web import did_web_for, document_path
from tradevc.vc.keys import KeyPair
from tradevc.vc.sealed import DamagedSealedFile, DerivedKey, WrongPassphrase, default_kdf, is_sealed, new_key
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import format_datetime

from .errors import IssuerError, IssuerHomeUnsafe

__all__ = ["IssuerHome", "IssuerProfile", "KeyRecord", "PROFILE_FILE"]

PROFILE_FILE = "issuer.json"
PROFILE_VERSION = 1
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


@dataclass
class KeyRecord:
    """One signing key of the issuer."""

    id: str  # verification method id
    key_type: str
    public_key_multibase: str
    file: str  # relative to the home
    created: str
    retired: str | None = None  # when it stopped being the current key


@dataclass
class IssuerProfile:
    name: str
    did: str
    did_method: str  # "key" or "web"
    default_cryptosuite: str
    status_base_url: str | None
    keys: list[KeyRecord] = field(default_factory=list)
    version: int = PROFILE_VERSION

    @property
    def current_key(self) -> KeyRecord:
        current = [k for k in self.keys if k.retired is None]
        if len(current) != 1:
            raise IssuerError(f"the issuer profile has {len(current)} current keys; expected exactly one")
        return current[0]

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: Path) -> "IssuerProfile":
        try:
            raw = json.loads(data)
            if raw.get("version") != PROFILE_VERSION:
                raise IssuerError(f"{where}: unsupported profile version {raw.get('version')!r}")
            keys = [KeyRecord(**k) for k in raw.pop("keys")]
            return cls(keys=keys, **raw)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise IssuerError(f"{where} is not a valid issuer profile: {e}") from e


def _now() -> str:
    return format_datetime(datetime.now(timezone.utc))


_R = TypeVar("_R")


def _private(check: Callable[[Path], _R], path: Path) -> _R:
    """``check(path)``, its :class:`UnsafeFileError` raised as :class:`IssuerHomeUnsafe`."""
    try:
        return check(path)
    except UnsafeFileError as e:
        raise IssuerHomeUnsafe(e.message) from None


class IssuerHome:
    """An issuer's state directory. Create one with :meth:`create`, open it with :meth:`open`."""

    def __init__(self, path: Path, profile: IssuerProfile) -> None:
        self.path = path
        self.profile = profile
        # the passphrase that last unlocked a key, and the scrypt key it gave: later unlocks with
        # the same passphrase skip scrypt (an issuer signs many credentials per process)
        self._unlocked: tuple[bytes, DerivedKey] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str,
        passphrase: bytes,
        key_type: str = "Ed25519",
        did_web_domain: str | None = None,
        status_base_url: str | None = None,
        cryptosuite: str = "eddsa-rdfc-2022",
    ) -> "IssuerHome":
        """Make a new issuer home with a fresh key.

        ``did_web_domain`` is ``host[:port][/path]`` for a did:web DID (checked by
        :func:`tradevc.vc.retrieval.did.web.did_web_for`: no URL, an IDNA host); without it the DID is
        the key's did:key. ``status_base_url`` (https, ending in ``/``) is where the status
        lists will be published; without it credentials get no status entries.

        :raises IssuerError: the directory already holds an issuer, or a value is invalid.
        """
        home = Path(path)
        if (home / PROFILE_FILE).exists():
            raise IssuerError(f"{home} already holds an issuer profile; choose another --home")
        if not name.strip():
            raise IssuerError("the issuer needs a name")
        suite = get_suite(cryptosuite)
        if key_type not in suite.key_types:
            raise IssuerError(f"{cryptosuite} signs with {' or '.join(sorted(suite.key_types))} keys, not {key_type}")
        if status_base_url is not None and not (status_base_url.startswith("https://") and status_base_url.endswith("/")):
            raise IssuerError(f"the status base URL must be an https URL ending in '/', not {status_base_url!r}")
        if did_web_domain:
            try:
                did, method = did_web_for(did_web_domain), "web"
            except ValueError as e:
                raise IssuerError(str(e)) from e
        else:
            did, method = "", "key"
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(home, 0o700)
        (home / "keys").mkdir(exist_ok=True, mode=0o700)
        key = KeyPair.generate(key_type)
        if method == "key":
            did = key.did
        profile = IssuerProfile(
            name=name.strip(), did=did, did_method=method, default_cryptosuite=cryptosuite,
            status_base_url=status_base_url,
        )
        instance = cls(home, profile)
        instance._store_key(key, passphrase)
        instance._save()
        return instance

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "IssuerHome":
        """Open an existing issuer home.

        :raises IssuerError: there is no issuer profile there, or it is damaged.
        :raises IssuerHomeUnsafe: the home is writable by group or others, or the profile is a
            symbolic link (see the module's docstring).
        """
        home = Path(path)
        profile_path = home / PROFILE_FILE
        try:
            _private(check_private_dir, home)
            data = _private(read_private, profile_path)
        except FileNotFoundError:
            raise IssuerError(f"no issuer in {home}: run 'vc-issuer init' first (or pass --home)") from None
        return cls(home, IssuerProfile.from_json(data, profile_path))

    def _save(self) -> None:
        write_atomic(self.path / PROFILE_FILE, self.profile.to_json())

    def _derived_key(self, passphrase: bytes) -> DerivedKey:
        """The scrypt key to seal a new key file with: the one the same passphrase last
        unlocked at today's cost (one salt for the files of a home), or a new one."""
        if self._unlocked is not None:
            known, derived = self._unlocked
            if hmac.compare_digest(known, passphrase) and derived.params == default_kdf():
                return derived
        derived = new_key(passphrase)
        self._unlocked = (passphrase, derived)
        return derived

    def _store_key(self, key: KeyPair, passphrase: bytes) -> KeyRecord:
        vm_id = key.verification_method if self.profile.did_method == "key" else f"{self.profile.did}#{key.public_key_multibase}"
        relative = f"keys/{len(self.profile.keys) + 1}.key"
        try:
            sealed = key.to_sealed(self._derived_key(passphrase))
        except ValueError:
            raise KeyMaterialError("a key at rest needs a non-empty passphrase") from None
        write_atomic(self.path / relative, sealed)
        record = KeyRecord(
            id=vm_id, key_type=key.key_type, public_key_multibase=key.public_key_multibase, file=relative, created=_now()
        )
        self.profile.keys.append(record)
        return record

    # -- keys --------------------------------------------------------------------------------

    def signing_key(self, passphrase: bytes) -> tuple[KeyPair, str]:
        """The current key pair and its verification method id.

        :raises KeyMaterialError: wrong passphrase or a damaged key file.
        :raises IssuerError: the key file does not hold the key the profile names.
        :raises IssuerHomeUnsafe: the key folder is writable by group or others, or the key
            file is a symbolic link (one open to group or others is made 0600, with a warning).
        """
        record = self.profile.current_key
        key = self._unlock(record, passphrase)
        if key.public_key_multibase != record.public_key_multibase:
            raise IssuerError(f"{record.file} does not hold the key {record.id}")
        return key, record.id

    def _read_key_file(self, record: KeyRecord) -> bytes:
        try:
            _private(check_private_dir, (self.path / record.file).parent)
            return _private(read_private, self.path / record.file)
        except FileNotFoundError:
            raise IssuerError(f"the key file {record.file} is missing from {self.path}") from None

    def _unlock(self, record: KeyRecord, passphrase: bytes) -> KeyPair:
        """The key pair in ``record``'s file; a file in the old format, or sealed at a lower
        cost than today's, has every such file of the home sealed again first."""
        data = self._read_key_file(record)
        if not is_sealed(data):
            key = KeyPair.from_encrypted_pem(data, passphrase)  # the old format (PBKDF2)
            self._upgrade(passphrase, {record.file: key})
            return key
        cached = self._unlocked[1] if self._unlocked and hmac.compare_digest(self._unlocked[0], passphrase) else None
        try:
            key, derived = KeyPair.from_sealed(data, passphrase, cached=cached)
        except WrongPassphrase:
            raise KeyMaterialError("cannot decrypt the key: wrong passphrase", code="WRONG_PASSPHRASE") from None
        except DamagedSealedFile as e:
            raise KeyMaterialError(f"the key file {record.file} is damaged: {e.message}") from None
        if self._unlocked is None or self._unlocked[1] != derived:
            self._unlocked = (passphrase, derived)
        if derived.params.n < default_kdf().n:
            self._upgrade(passphrase, {record.file: key})
        return key

    def _upgrade(self, passphrase: bytes, opened: dict[str, KeyPair]) -> None:
        """Seal again, at today's cost, the key files of this home that are in the old format
        or sealed at a lower cost; ``opened`` holds those already decrypted (by file). A file
        the passphrase does not open is left as it is."""
        target = self._derived_key(passphrase)
        for record in self.profile.keys:
            key = opened.get(record.file)
            if key is None:
                try:
                    data = self._read_key_file(record)
                except IssuerError:
                    continue
                try:
                    if not is_sealed(data):
                        key = KeyPair.from_encrypted_pem(data, passphrase)
                    else:
                        key, derived = KeyPair.from_sealed(data, passphrase)
                        if derived.params.n >= target.params.n:
                            continue
                except (KeyMaterialError, WrongPassphrase, DamagedSealedFile):
                    continue
            write_atomic(self.path / record.file, key.to_sealed(target))

    def rotate_key(self, passphrase: bytes, *, key_type: str | None = None) -> KeyRecord:
        """Make a new current key; the old one stays in the DID document under
        ``assertionMethod`` (so what it signed keeps verifying) until :meth:`remove_key`.

        :raises IssuerError: a did:key issuer (its DID is its key), or a key type the default
            cryptosuite cannot use.
        :raises KeyMaterialError: wrong passphrase (checked on the current key first).
        """
        if self.profile.did_method != "web":
            raise IssuerError("a did:key issuer cannot rotate its key (the DID is the key); use a did:web issuer")
        self.signing_key(passphrase)  # the same passphrase protects every key
        key_type = key_type or self.profile.current_key.key_type
        suite = get_suite(self.profile.default_cryptosuite)
        if key_type not in suite.key_types:
            raise IssuerError(f"{suite.name} signs with {' or '.join(sorted(suite.key_types))} keys, not {key_type}")
        old = self.profile.current_key
        record = self._store_key(KeyPair.generate(key_type), passphrase)
        old.retired = record.created
        self._save()
        return record

    def remove_key(self, key_id: str) -> None:
        """Remove a retired key from the DID document for good: what it signed stops verifying.

        :raises IssuerError: no such key, or it is the current key.
        """
        matches = [k for k in self.profile.keys if k.id == key_id or k.id.endswith("#" + key_id)]
        if not matches:
            raise IssuerError(f"no key {key_id!r}; see 'vc-issuer key list'")
        record = matches[0]
        if record.retired is None:
            raise IssuerError("the current key cannot be removed; rotate first")
        self.profile.keys.remove(record)
        self._save()
        try:
            (self.path / record.file).unlink()
        except FileNotFoundError:
            pass

    # -- DID document ------------------------------------------------------------------------

    def did_document(self) -> dict[str, Any]:
        """The DID document to publish (did:web) or that did:key resolves to."""
        did = self.profile.did
        methods = [
            {"id": k.id, "type": "Multikey", "controller": did, "publicKeyMultibase": k.public_key_multibase}
            for k in self.profile.keys
        ]
        current = self.profile.current_key.id
        return {
            "@context": list(DID_CONTEXTS),
            "id": did,
            "verificationMethod": methods,
            "authentication": [current],
            "assertionMethod": [k.id for k in self.profile.keys],
        }

    def did_document_path(self) -> str | None:
        """Where did.json goes below the web root, for a did:web issuer (None for did:key)."""
        return document_path(self.profile.did) if self.profile.did_method == "web" else None
