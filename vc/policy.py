"""Trust policies: which issuers the verifier trusts, for which credential types.

A policy is required by every verification call, so the caller always says whom it trusts.
An empty policy is an error, never "trust everyone"; the only permissive policy is
:meth:`TrustPolicy.unsafe_any_issuer`, and every report made under it carries a warning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, runtime_checkable

from .model import Credential
from .verification import CheckResult

__all__ = ["VerificationPolicy", "TrustPolicy"]

log = logging.getLogger(__name__)

_BASE_TYPES = frozenset({"VerifiableCredential"})
UNSAFE_WARNING = "trust policy is unsafe_any_issuer(): the issuer was NOT checked against a list of trusted issuers"


@runtime_checkable
class VerificationPolicy(Protocol):
    """Decides whether a credential's issuer is trusted for what it issued."""

    warning: str | None

    def check(self, credential: Credential) -> CheckResult:
        """A ``policy`` check: passed if trusted, failed (``UNTRUSTED_ISSUER``) if not."""
        ...


class TrustPolicy:
    """Issuer DID -> the credential types it is trusted to issue.

    >>> policy = TrustPolicy({"did:web:mill.example": ["MillTestReportCredential"]})
    >>> policy.trusts("did:web:mill.example", ["VerifiableCredential", "MillTestReportCredential"])
    True
    >>> policy.trusts("did:web:mill.example", ["VerifiableCredential", "USMCACertificationOfOrigin"])
    False
    """

    def __init__(self, trusted: Mapping[str, Iterable[str]]) -> None:
        """:raises ValueError: the mapping is empty, or an issuer has no credential types."""
        if not trusted:
            raise ValueError("a TrustPolicy needs at least one trusted issuer; an empty policy trusts nobody")
        self._trusted: dict[str, frozenset[str]] = {}
        for issuer, types in trusted.items():
            allowed = frozenset([types] if isinstance(types, str) else types)
            if not isinstance(issuer, str) or not issuer or not allowed:
                raise ValueError(f"trusted issuer {issuer!r} must be a DID with at least one credential type")
            self._trusted[issuer] = allowed
        self._any = False
        self.warning: str | None = None

    @classmethod
    def unsafe_any_issuer(cls) -> "TrustPolicy":
        """A policy that trusts every issuer for every type. For tests and demos only: every
        report made under it says so."""
        policy = cls.__new__(cls)
        policy._trusted = {}
        policy._any = True
        policy.warning = UNSAFE_WARNING
        log.warning("using TrustPolicy.unsafe_any_issuer(): issuers are not checked")
        return policy

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrustPolicy":
        """From ``{"trustedIssuers": {"did:...": ["TypeA", "TypeB"], ...}}``.

        :raises ValueError: the data has another shape or is empty.
        """
        issuers = data.get("trustedIssuers") if isinstance(data, Mapping) else None
        if not isinstance(issuers, Mapping):
            raise ValueError('a trust policy is an object {"trustedIssuers": {"<issuer DID>": ["<type>", ...]}}')
        return cls(issuers)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrustPolicy":
        """Read a policy file (see :meth:`from_dict`).

        :raises OSError: the file cannot be read. :raises ValueError: bad JSON or shape.
        """
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def trusts(self, issuer: str, types: Iterable[str]) -> bool:
        """True if ``issuer`` may issue a credential with all of ``types`` (besides VerifiableCredential)."""
        if self._any:
            return True
        allowed = self._trusted.get(issuer)
        return allowed is not None and set(types) - _BASE_TYPES <= allowed

    def check(self, credential: Credential) -> CheckResult:
        issuer, types = credential.issuer_id, credential.types
        if self._any:
            return CheckResult.passed("policy", "any issuer accepted (unsafe_any_issuer)")
        if issuer not in self._trusted:
            return CheckResult.failed("policy", "UNTRUSTED_ISSUER", f"issuer {issuer} is not a trusted issuer")
        extra = sorted(set(types) - _BASE_TYPES - self._trusted[issuer])
        if extra:
            return CheckResult.failed(
                "policy", "UNTRUSTED_ISSUER", f"issuer {issuer} is not trusted to issue {', '.join(extra)}"
            )
        return CheckResult.passed("policy", f"issuer {issuer} is trusted for {', '.join(sorted(set(types) - _BASE_TYPES)) or 'VerifiableCredential'}")
