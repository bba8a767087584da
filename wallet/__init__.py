"""The holder's side: present credentials to a verifier (the encrypted wallet and its CLI come later)."""

from vc.presentations import sign_presentation

__all__ = ["sign_presentation"]
