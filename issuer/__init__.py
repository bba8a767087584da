"""The issuer's side: sign credentials, and co-sign them (the ``vc-issuer`` CLI comes later)."""

from vc.credentials import cosign_credential, sign_credential

__all__ = ["sign_credential", "cosign_credential"]
