"""``python -m tradevc.wallet``: the same as ``vc-wallet``."""

from tradevc.wallet.cli import main

main()
