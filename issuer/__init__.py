"""The issuer's side: sign credentials (the ``vc-issuer`` CLI comes later)."""

from vc.credentials import sign_credential

__all__ = ["sign_credential"]
