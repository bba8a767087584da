"""Verification: the one pipeline for credentials and presentations (see
:mod:`tradevc.vc.verification.pipeline`)."""

from tradevc.vc.verification.pipeline import (
    DEFAULT_CLOCK_SKEW,
    verify_credential,
    verify_credential_jwt,
    verify_document,
    verify_fetched_credential,
    verify_presentation,
    verify_presentation_jwt,
)

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "verify_credential",
    "verify_credential_jwt",
    "verify_document",
    "verify_fetched_credential",
    "verify_presentation",
    "verify_presentation_jwt",
]
