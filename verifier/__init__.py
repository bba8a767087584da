"""The verifier's side: verify credentials against a trust policy."""

from vc.credentials import verify_credential
from vc.policy import TrustPolicy, VerificationPolicy
from vc.verification import CheckResult, Outcome, VerificationResult

__all__ = ["verify_credential", "TrustPolicy", "VerificationPolicy", "VerificationResult", "CheckResult", "Outcome"]
