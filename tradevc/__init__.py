"""tradevc: W3C Verifiable Credentials for cross-border trade.

The common entry points are re-exported here, so ``from tradevc import Verifier, TrustPolicy``
is all most callers need. The packages underneath keep their own names:

- ``tradevc.vc``: the library (keys, securing mechanisms, DID resolution, status, verification);
- ``tradevc.issuer``, ``tradevc.verifier``, ``tradevc.wallet``: the three desks and their CLIs;
- ``tradevc.contexts``: the pinned JSON-LD contexts and JSON Schemas (data only).

Names are imported on first use, so ``import tradevc.vc`` loads none of the desks (nor click).
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

try:
    __version__ = _metadata.version("tradevc")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # verify
    "verify_credential": "tradevc.vc.verification.pipeline",
    "verify_presentation": "tradevc.vc.verification.pipeline",
    "Verifier": "tradevc.verifier.service",
    "TrustPolicy": "tradevc.vc.checks.policy",
    "VerificationPolicy": "tradevc.vc.checks.policy",
    "VerificationResult": "tradevc.vc.report",
    "PresentationResult": "tradevc.vc.report",
    "CheckResult": "tradevc.vc.report",
    "Outcome": "tradevc.vc.report",
    "Compatibility": "tradevc.vc.compat",
    "Mirror": "tradevc.vc.retrieval.mirror",
    # sign
    "KeyPair": "tradevc.vc.keys",
    "sign_credential": "tradevc.vc.securing.data_integrity",
    "cosign_credential": "tradevc.vc.securing.data_integrity",
    "sign_presentation": "tradevc.vc.securing.data_integrity",
    "sign_credential_jwt": "tradevc.vc.securing.jose",
    "sign_presentation_jwt": "tradevc.vc.securing.jose",
    "envelope_credential": "tradevc.vc.securing.enveloped",
    "envelope_presentation": "tradevc.vc.securing.enveloped",
    "Issuer": "tradevc.issuer.service",
    "Wallet": "tradevc.wallet.service",
    # errors
    "VcError": "tradevc.vc.errors",
    "InvalidDocument": "tradevc.vc.errors",
    "UnsupportedError": "tradevc.vc.errors",
    "ResolutionError": "tradevc.vc.errors",
    "KeyMaterialError": "tradevc.vc.errors",
    "SigningError": "tradevc.vc.errors",
    "VerificationFailed": "tradevc.vc.errors",
}

# Spelled out (not built from _EXPORTS) so that type checkers see it: `from tradevc import *`.
__all__ = [
    "__version__",
    "verify_credential", "verify_presentation", "Verifier", "TrustPolicy", "VerificationPolicy",
    "VerificationResult", "PresentationResult", "CheckResult", "Outcome", "Compatibility", "Mirror",
    "KeyPair", "sign_credential", "cosign_credential", "sign_presentation", "sign_credential_jwt",
    "sign_presentation_jwt", "envelope_credential", "envelope_presentation", "Issuer", "Wallet",
    "VcError", "InvalidDocument", "UnsupportedError", "ResolutionError", "KeyMaterialError",
    "SigningError", "VerificationFailed",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tradevc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # what type checkers see; at run time the names above are imported lazily
    from tradevc.issuer.service import Issuer as Issuer
    from tradevc.vc.checks.policy import TrustPolicy as TrustPolicy
    from tradevc.vc.checks.policy import VerificationPolicy as VerificationPolicy
    from tradevc.vc.compat import Compatibility as Compatibility
    from tradevc.vc.errors import InvalidDocument as InvalidDocument
    from tradevc.vc.errors import KeyMaterialError as KeyMaterialError
    from tradevc.vc.errors import ResolutionError as ResolutionError
    from tradevc.vc.errors import SigningError as SigningError
    from tradevc.vc.errors import UnsupportedError as UnsupportedError
    from tradevc.vc.errors import VcError as VcError
    from tradevc.vc.errors import VerificationFailed as VerificationFailed
    from tradevc.vc.keys import KeyPair as KeyPair
    from tradevc.vc.report import CheckResult as CheckResult
    from tradevc.vc.report import Outcome as Outcome
    from tradevc.vc.report import PresentationResult as PresentationResult
    from tradevc.vc.report import VerificationResult as VerificationResult
    from tradevc.vc.retrieval.mirror import Mirror as Mirror
    from tradevc.vc.securing.data_integrity import cosign_credential as cosign_credential
    from tradevc.vc.securing.data_integrity import sign_credential as sign_credential
    from tradevc.vc.securing.data_integrity import sign_presentation as sign_presentation
    from tradevc.vc.securing.enveloped import envelope_credential as envelope_credential
    from tradevc.vc.securing.enveloped import envelope_presentation as envelope_presentation
    from tradevc.vc.securing.jose import sign_credential_jwt as sign_credential_jwt
    from tradevc.vc.securing.jose import sign_presentation_jwt as sign_presentation_jwt
    from tradevc.vc.verification.pipeline import verify_credential as verify_credential
    from tradevc.vc.verification.pipeline import verify_presentation as verify_presentation
    from tradevc.verifier.service import Verifier as Verifier
    from tradevc.wallet.service import Wallet as Wallet
