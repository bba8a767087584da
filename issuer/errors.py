"""Errors of the issuing desk."""

from tradevc.vc.errors import VcError


class IssuerError(VcError):
    """The issuer's home, keys or registry refuse an operation (unknown credential, bad state...)."""

    code = "ISSUER_ERROR"
