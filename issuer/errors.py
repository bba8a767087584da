"""Errors of the issuing desk."""

from tradevc.vc.atomicfile import UnsafeFileError
from tradevc.vc.errors import VcError


class IssuerError(VcError):
    """The issuer's home, keys or registry refuse an operation (unknown credential, bad state...)."""

    code = "ISSUER_ERROR"


class IssuerHomeUnsafe(IssuerError, UnsafeFileError):
    """A file of the issuer home (profile, key, registry) is a symbolic link or not a regular
    file, or the home or its key folder is writable by group or others. Nothing is used."""

    code = "UNSAFE_FILE"
