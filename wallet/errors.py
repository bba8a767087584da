"""Errors of the holder's wallet. Each message says what happened and what to do; none of
them reveals anything about the wallet's content."""

from tradevc.vc.atomicfile import UnsafeFileError
from tradevc.vc.errors import VcError


class WalletError(VcError):
    """The wallet refuses an operation (unknown credential, invalid credential, bad input...)."""

    code = "WALLET_ERROR"


class WalletNotFound(WalletError):
    code = "WALLET_NOT_FOUND"


class WrongPassphrase(WalletError):
    code = "WRONG_PASSPHRASE"


class WalletCorrupted(WalletError):
    """The wallet file is truncated, altered or not a wallet file. It is never overwritten."""

    code = "WALLET_CORRUPTED"


class WalletLocked(WalletError):
    """Another process has held the wallet's lock for longer than we were willing to wait."""

    code = "WALLET_LOCKED"


class WalletUnsafe(WalletError, UnsafeFileError):
    """The wallet file or its lock file is a symbolic link (or not a regular file), or the
    wallet's directory is writable by group or others. Nothing is read or written."""

    code = "UNSAFE_FILE"
