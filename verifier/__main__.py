"""``python -m tradevc.verifier``: the same as ``vc-verify``."""

from tradevc.verifier.cli import main

main()
