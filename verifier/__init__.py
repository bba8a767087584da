"""The verifier's side: verify credentials and presentations against a trust policy."""

from vc.credentials import verify_credential
from vc.policy import TrustPolicy, VerificationPolicy
from vc.presentations import PresentationResult, verify_presentation
from vc.verification import CheckResult, Outcome, VerificationResult

from .service import Verifier

__all__ = [
    "verify_credential",
    "verify_presentation",
    "Verifier",
    "TrustPolicy",
    "VerificationPolicy",
    "VerificationResult",
    "PresentationResult",
    "CheckResult",
    "Outcome",
]
