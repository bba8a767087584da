"""Cryptosuites for Data Integrity proofs, and their registry.

A cryptosuite is one small module ``vc/securing/proofs/<name, lower case, with underscores>.py`` that
defines ``SUITE``, an object following :class:`Cryptosuite` (``eddsa-rdfc-2022`` lives in
``eddsa_rdfc_2022.py``; the legacy proof type ``Ed25519Signature2020`` in
``ed25519signature2020.py``). :func:`get_suite` finds it by name, so adding a suite means
adding a file; nothing else changes. The generic proof algorithms that
every suite shares live in :mod:`tradevc.vc.securing.proofs.data_integrity`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any, Protocol

from tradevc.vc.errors import UnsupportedError
from tradevc.vc.jsonld import DocumentLoader
from tradevc.vc.keys import KeyPair

__all__ = ["Cryptosuite", "get_suite", "suite_for_proof"]


class Cryptosuite(Protocol):
    """The steps a Data Integrity cryptosuite defines, in the specification's terms."""

    name: str
    """The ``cryptosuite`` value, e.g. ``"eddsa-rdfc-2022"``."""
    proof_type: str
    """The proof ``type`` it produces, ``"DataIntegrityProof"``."""
    key_types: frozenset[str]
    """The key types it can use (:attr:`tradevc.vc.keys.KeyPair.key_type`)."""
    uses_json_ld: bool
    """True if it interprets the document as JSON-LD (RDFC suites); False for JCS suites."""
    proof_value_member: str
    """The proof member that holds the signature: ``proofValue`` (``jws`` for Ed25519Signature2018)."""

    def transform(self, document: Mapping[str, Any], *, loader: DocumentLoader, key: KeyPair) -> bytes:
        """The unsecured document in the suite's canonical form (which may depend on the key:
        ecdsa-rdfc-2019 canonicalizes with SHA-384 for P-384 keys)."""
        ...

    def configure(self, proof_config: Mapping[str, Any], *, loader: DocumentLoader, key: KeyPair) -> bytes:
        """The proof configuration (the proof without ``proofValue``, with the document's
        ``@context``) in the suite's canonical form."""
        ...

    def hash(self, transformed: bytes, proof_config: bytes, *, key: KeyPair) -> bytes:
        """The data to sign: ``hash(proof_config) || hash(transformed)``."""
        ...

    def create_proof_value(self, hash_data: bytes, key: KeyPair) -> str:
        """Sign ``hash_data`` and encode the signature as the ``proofValue``."""
        ...

    def verify_proof_value(self, hash_data: bytes, proof_value: str, key: KeyPair) -> None:
        """:raises cryptography.exceptions.InvalidSignature: the signature does not verify.
        :raises InvalidDocument: the proof value is malformed."""
        ...


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(-[a-z0-9]+)*$")
_cache: dict[str, Cryptosuite] = {}


def get_suite(name: Any) -> Cryptosuite:
    """The cryptosuite called ``name``.

    :raises UnsupportedError: no such suite in this library.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise UnsupportedError(f"unsupported cryptosuite {name!r}")
    suite = _cache.get(name)
    if suite is None:
        try:
            module = importlib.import_module(f"{__name__}.{name.lower().replace('-', '_')}")
        except ModuleNotFoundError as e:
            raise UnsupportedError(f"unsupported cryptosuite {name!r}") from e
        suite = getattr(module, "SUITE", None)
        if suite is None or suite.name != name:
            raise UnsupportedError(f"unsupported cryptosuite {name!r}")
        _cache[name] = suite
    return suite


def suite_for_proof(proof_type: Any, cryptosuite: Any) -> Cryptosuite:
    """The suite for a proof: by ``cryptosuite`` for a ``DataIntegrityProof``, otherwise by the
    legacy proof ``type`` itself (e.g. ``Ed25519Signature2020``).

    :raises UnsupportedError: no such suite, or the proof type and suite do not belong together.
    """
    if proof_type == "DataIntegrityProof":
        suite = get_suite(cryptosuite)
    else:
        if cryptosuite is not None:
            raise UnsupportedError(f"a proof of type {proof_type!r} must not name a cryptosuite ({cryptosuite!r})")
        suite = get_suite(proof_type)
    if suite.proof_type != proof_type:
        raise UnsupportedError(f"unsupported proof type {proof_type!r}")
    return suite
