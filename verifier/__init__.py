"""The verifier's side: verify credentials and presentations against a trust policy."""

from tradevc.vc.credentials import verify_credential
from tradevc.vc.policy import TrustPolicy, VerificationPolicy
from tradevc.vc.presentations import PresentationResult, verify_presentation
from tradevc.vc.verification import CheckResult, Outcome, VerificationResult

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
