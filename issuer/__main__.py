"""``python -m tradevc.issuer``: the same as ``vc-issuer``."""

from tradevc.issuer.cli import main

main()
