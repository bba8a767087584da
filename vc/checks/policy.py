"""Trust policies: which issuers the verifier trusts, for which credential types.

A policy is required by every verification call, so the caller always says whom it trusts.
An empty policy is an error, never "trust everyone"; the only permissive policy is
:meth:`TrustPolicy.unsafe_any_issuer`, and every report made under it carries a warning.
The check a policy adds to a report is called ``issuer_trust``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Protocol, runtime_checkable

from tradevc.vc.model import Credential
from tradevc.vc.report import CheckResult

__all__ = ["VerificationPolicy", "TrustPolicy", "TrustedIssuer", "IssuerIs", "CHECK"]

log = logging.getLogger(__name__)

CHECK = "issuer_trust"
_BASE_TYPES = frozenset({"VerifiableCredential"})
UNSAFE_WARNING = "trust policy is unsafe_any_issuer(): the issuer was NOT checked against a list of trusted issuers"


@runtime_checkable
class VerificationPolicy(Protocol):
    """Decides whether a credential's issuer is trusted for what it issued."""

    warning: str | None

    def check(self, credential: Credential) -> CheckResult:
        """An ``issuer_trust`` check: passed if trusted, failed (``UNTRUSTED_ISSUER``) if not."""
        ...


_POLICY_TYPES: set[type] = set()


def require_policy(policy: object) -> None:
    """:raises TypeError: ``policy`` is not a :class:`VerificationPolicy`.

    ``isinstance`` against a runtime-checkable Protocol inspects the class's attributes on every
    call (tens of microseconds, a sizeable share of a JCS or JOSE verification), so each class
    that passed once is remembered."""
    kind = type(policy)
    if kind in _POLICY_TYPES:
        return
    if not isinstance(policy, VerificationPolicy):
        raise TypeError("policy must be a VerificationPolicy such as TrustPolicy.from_file(...)")
    _POLICY_TYPES.add(kind)


@dataclass(frozen=True)
class TrustedIssuer:
    did: str
    types: frozenset[str]
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.did})" if self.name else self.did


class TrustPolicy:
    """Issuer DID -> the credential types it is trusted to issue (and a display name).

    >>> policy = TrustPolicy({"did:web:mill.example": ["MillTestReportCredential"]})
    >>> policy.trusts("did:web:mill.example", ["VerifiableCredential", "MillTestReportCredential"])
    True
    >>> policy.trusts("did:web:mill.example", ["VerifiableCredential", "USMCACertificationOfOrigin"])
    False
    """

    def __init__(self, trusted: Mapping[str, Iterable[str]] | Iterable[TrustedIssuer]) -> None:
        """:raises ValueError: no issuer, or an issuer without credential types."""
        entries = (
            [TrustedIssuer(did, frozenset([t] if isinstance(t, str) else t)) for did, t in trusted.items()]
            if isinstance(trusted, Mapping)
            else list(trusted)
        )
        if not entries:
            raise ValueError("a TrustPolicy needs at least one trusted issuer; an empty policy trusts nobody")
        self._trusted: dict[str, TrustedIssuer] = {}
        for entry in entries:
            if not isinstance(entry.did, str) or not entry.did.startswith("did:") or not entry.types:
                raise ValueError(f"trusted issuer {entry.did!r} must be a DID with at least one credential type")
            if not all(isinstance(t, str) and t for t in entry.types):
                raise ValueError(f"trusted issuer {entry.did}: credential types must be non-empty strings")
            self._trusted[entry.did] = entry
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
        """From a policy document::

            {"trustedIssuers": [
                {"did": "did:web:licensing.trade.gov", "name": "Steel Import Licensing",
                 "types": ["SIMASteelImportLicenseCredential"]}, ...]}

        (the short form ``{"trustedIssuers": {"did:...": ["Type", ...]}}`` is accepted too).

        :raises ValueError: another shape, or no issuer.
        """
        issuers = data.get("trustedIssuers") if isinstance(data, Mapping) else None
        if isinstance(issuers, Mapping):
            for did, types in issuers.items():
                if not isinstance(types, (str, list)) or not all(isinstance(t, str) for t in _listed(types)):
                    raise ValueError(f"trustedIssuers[{did!r}]: must be a credential type or a list of them")
            return cls(issuers)
        if not isinstance(issuers, list):
            raise ValueError('a trust policy is {"trustedIssuers": [{"did": ..., "name": ..., "types": [...]}, ...]}')
        entries = []
        for i, item in enumerate(issuers):
            if not isinstance(item, Mapping) or not isinstance(item.get("types"), list) or not all(
                isinstance(t, str) for t in item["types"]
            ):
                raise ValueError(f"trustedIssuers[{i}] needs a did and a list of types (strings)")
            name = item.get("name")
            entries.append(TrustedIssuer(str(item.get("did")), frozenset(item["types"]), name if isinstance(name, str) else None))
        return cls(entries)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrustPolicy":
        """Read a policy file (see :meth:`from_dict`).

        :raises OSError: the file cannot be read. :raises ValueError: bad JSON or shape.
        """
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def issuer(self, did: str) -> TrustedIssuer | None:
        return self._trusted.get(did)

    def to_dict(self) -> dict[str, Any]:
        """The policy as a document :meth:`from_dict` reads back (``{"unsafeAnyIssuer": true}``
        for :meth:`unsafe_any_issuer`, which :meth:`from_dict` does not read)."""
        if self._any:
            return {"unsafeAnyIssuer": True}
        return {"trustedIssuers": [
            {"did": e.did, **({"name": e.name} if e.name else {}), "types": sorted(e.types)}
            for e in self._trusted.values()
        ]}

    def trusts(self, issuer: str, types: Iterable[str]) -> bool:
        """True if ``issuer`` may issue a credential with all of ``types`` (besides VerifiableCredential)."""
        if self._any:
            return True
        entry = self._trusted.get(issuer)
        return entry is not None and set(types) - _BASE_TYPES <= entry.types

    def check(self, credential: Credential) -> CheckResult:
        issuer, types = credential.issuer_id, set(credential.types) - _BASE_TYPES
        if self._any:
            return CheckResult.passed(CHECK, "any issuer accepted (unsafe_any_issuer)")
        entry = self._trusted.get(issuer)
        if entry is None:
            return CheckResult.failed(CHECK, "UNTRUSTED_ISSUER", f"issuer {issuer} is not a trusted issuer")
        extra = sorted(types - entry.types)
        if extra:
            return CheckResult.failed(
                CHECK, "UNTRUSTED_ISSUER", f"{entry.label} is not trusted to issue {', '.join(extra)}"
            )
        return CheckResult.passed(CHECK, f"{entry.label} is trusted for {', '.join(sorted(types)) or 'VerifiableCredential'}")


class IssuerIs:
    """Trusts exactly one issuer, for any type: what a status list must be (its issuer is
    the credential's issuer)."""

    warning: str | None = None

    def __init__(self, did: str) -> None:
        self.did = did

    def check(self, credential: Credential) -> CheckResult:
        if credential.issuer_id == self.did:
            return CheckResult.passed(CHECK, f"issued by {self.did}")
        return CheckResult.failed(CHECK, "UNTRUSTED_ISSUER", f"issued by {credential.issuer_id}, not by {self.did}")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
