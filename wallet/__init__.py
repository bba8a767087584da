"""The holder's side: the importer's encrypted wallet and presentations to customs.

``Wallet`` keeps credentials, the anchors that vouch for their issuers, and the holder key in one
encrypted file; ``sign_presentation`` is the library call it uses to present them.
"""

from tradevc.vc.securing.data_integrity import sign_presentation

from .errors import WalletCorrupted, WalletError, WalletLocked, WalletNotFound, WalletUnsafe, WrongPassphrase
from .service import (
    AddedAnchor,
    AnchorSelection,
    CheckChange,
    CredentialRefused,
    HeldCredential,
    HolderPolicy,
    PowerSelection,
    SkippedAnchor,
    Wallet,
    describe_vouch,
    status_of,
)
from .store import KdfParams

__all__ = [
    "Wallet", "HeldCredential", "CheckChange", "CredentialRefused", "HolderPolicy", "KdfParams", "status_of",
    "sign_presentation", "WalletError", "WalletNotFound", "WrongPassphrase", "WalletCorrupted", "WalletLocked",
    "WalletUnsafe", "AnchorSelection", "AddedAnchor", "SkippedAnchor", "describe_vouch",
    "PowerSelection",
]
