"""The issuer's side: sign and co-sign credentials; the issuing desk (``Issuer``) behind ``vc-issuer``."""

from tradevc.vc.securing.data_integrity import cosign_credential, sign_credential

from .service import Issuer

__all__ = ["sign_credential", "cosign_credential", "Issuer"]
