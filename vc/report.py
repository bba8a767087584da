"""Verification reports: named checks with an outcome, a code and a message.

``Outcome.FAILED`` means "checked, and invalid"; ``Outcome.ERROR`` means "could not be
checked" (a resolver was down, a feature is not available). A result is verified only if no
check failed or erred and every check that must run passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tradevc.vc.errors import VcError, VerificationFailed

__all__ = ["Outcome", "CheckResult", "VerificationResult", "PresentationResult"]


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


_PASSED, _SKIPPED = Outcome.PASSED, Outcome.SKIPPED


@dataclass(slots=True)
class CheckResult:
    """One named check. ``code`` is a W3C error code (or ours) when the check did not pass.

    Not frozen: a verification makes about a dozen of these, and a frozen dataclass costs
    about three times as much to construct (``object.__setattr__`` per field), which is
    measurable next to a 0.1 ms signature check. Treat a check in a report as read-only."""

    name: str
    outcome: Outcome
    message: str = ""
    code: str | None = None
    subject: str | None = None  # what was checked: a credential id, a proof id...
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, name: str, message: str = "", **kw: Any) -> "CheckResult":
        return cls(name, Outcome.PASSED, message, **kw)

    @classmethod
    def failed(cls, name: str, code: str, message: str, **kw: Any) -> "CheckResult":
        return cls(name, Outcome.FAILED, message, code=code, **kw)

    @classmethod
    def error(cls, name: str, code: str, message: str, **kw: Any) -> "CheckResult":
        return cls(name, Outcome.ERROR, message, code=code, **kw)

    @classmethod
    def skipped(cls, name: str, message: str = "", **kw: Any) -> "CheckResult":
        return cls(name, Outcome.SKIPPED, message, **kw)

    @classmethod
    def from_error(cls, name: str, error: VcError, **kw: Any) -> "CheckResult":
        return cls(name, Outcome.FAILED, error.message, code=error.code, **kw)

    def __reduce__(self) -> tuple[Any, ...]:
        # Reports travel between processes (tradevc.verifier.batch), a dozen checks each: rebuilt by
        # calling the class with its fields, which unpickles in about half the time of the
        # slots dataclass default (an object, then its state set field by field).
        return CheckResult, (self.name, self.outcome, self.message, self.code, self.subject, self.data)

    def to_dict(self) -> dict[str, Any]:
        # _value_, not .value: the same string without the enum's property lookup (a report a
        # request: the service answers with these)
        out: dict[str, Any] = {"name": self.name, "outcome": self.outcome._value_, "message": self.message}
        if self.code:
            out["code"] = self.code
        if self.subject:
            out["subject"] = self.subject
        if self.data:
            out["data"] = self.data
        return out


@dataclass
class VerificationResult:
    """The report of one verification: every check that ran, in order, and any warnings."""

    checks: list[CheckResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    document_id: str | None = None

    @property
    def verified(self) -> bool:
        """True only if at least one check passed and none failed or erred."""
        passed = False
        for check in self.checks:  # by identity: a set of outcomes would hash each (in Python)
            if check.outcome is _PASSED:
                passed = True
            elif check.outcome is not _SKIPPED:
                return False
        return passed

    @property
    def could_not_verify(self) -> bool:
        """True if some check could not be carried out and none found the document invalid."""
        return any(c.outcome is Outcome.ERROR for c in self.checks) and not self.failures

    @property
    def outcome(self) -> str:
        """``"verified"``, ``"not_verified"`` (a check failed) or ``"could_not_verify"`` (a
        check could not be carried out, and none failed): the ``"outcome"`` of :meth:`to_dict`."""
        if self.verified:
            return "verified"
        return "could_not_verify" if self.could_not_verify else "not_verified"

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome is Outcome.FAILED]

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome is Outcome.ERROR]

    def check(self, name: str) -> CheckResult:
        """The first check called ``name``. :raises KeyError: no such check ran."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def add(self, check: CheckResult) -> CheckResult:
        self.checks.append(check)
        return check

    def __bool__(self) -> bool:
        raise TypeError("a VerificationResult has no truth value; use result.verified")

    def raise_for_failure(self) -> None:
        """:raises VerificationFailed: the result is not verified."""
        if not self.verified:
            raise VerificationFailed(self)

    def summary(self) -> str:
        """One line per check, for people."""
        head = "VERIFIED" if self.verified else ("COULD NOT VERIFY" if self.could_not_verify else "NOT VERIFIED")
        lines = [f"{head}{f': {self.document_id}' if self.document_id else ''}"]
        # name what a check was about only when there is more than one such thing (several proofs)
        several = len({c.subject for c in self.checks if c.subject}) > 1
        for c in self.checks:
            mark = {"passed": "OK  ", "failed": "FAIL", "error": "ERR ", "skipped": "SKIP"}[c.outcome.value]
            code = f" [{c.code}]" if c.code else ""
            subject = f" ({c.subject})" if c.subject and several else ""
            lines.append(f"  {mark} {c.name}{subject}{code}: {c.message}")
        lines.extend(f"  WARNING: {w}" for w in self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "verified": self.verified,
            "document": self.document_id,
            "checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


@dataclass
class PresentationResult(VerificationResult):
    """The presentation's report; ``credentials`` holds one report per credential inside,
    ``signers`` the DIDs whose keys made the presentation's verified proofs (for a JOSE
    presentation, the DID of the ``kid`` once the signature verified), in proof order, each
    once; it is empty when no proof verified.

    ``challenge``, ``domain`` and ``created`` are what the presentation's proof says (of its
    first proof, for several Data Integrity proofs; a JOSE presentation's ``nonce``, ``aud``
    and ``iat``, the latter as an ISO 8601 date), as found, whether or not they were accepted;
    None when the proof has none (or it was not a string, or a list of strings for ``domain``)
    or the presentation was not opened."""

    credentials: list[VerificationResult] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    challenge: str | None = None
    domain: str | list[str] | None = None
    created: str | None = None

    def expose_proof(self, challenge: Any, domain: Any, created: Any) -> None:
        """Set :attr:`challenge`, :attr:`domain` and :attr:`created` from a proof's values,
        keeping only those of the expected types (the securing mechanisms call this)."""
        self.challenge = challenge if isinstance(challenge, str) else None
        if isinstance(domain, str) or (isinstance(domain, list) and all(isinstance(d, str) for d in domain)):
            self.domain = domain
        else:
            self.domain = None
        self.created = created if isinstance(created, str) else None

    @property
    def signer(self) -> str | None:
        """The DID that signed the presentation: the only one in :attr:`signers`; ``None``
        when no proof verified, or when proofs by several DIDs did (see :attr:`signers`)."""
        return self.signers[0] if len(self.signers) == 1 else None

    def summary(self) -> str:
        parts = [super().summary()]
        for i, credential in enumerate(self.credentials, 1):
            inner = credential.summary().replace("\n", "\n    ")
            parts.append(f"  credential {i}: {inner}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["signers"] = list(self.signers)
        out["challenge"] = self.challenge
        out["domain"] = list(self.domain) if isinstance(self.domain, list) else self.domain
        out["created"] = self.created
        out["credentials"] = [c.to_dict() for c in self.credentials]
        return out
