"""The verifier's side: verify credentials and presentations against a trust policy."""

from tradevc.vc.verification import verify_credential
from tradevc.vc.checks.policy import TrustPolicy, VerificationPolicy
from tradevc.vc.report import PresentationResult
from tradevc.vc.verification import verify_presentation
from tradevc.vc.report import CheckResult, Outcome, VerificationResult

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
