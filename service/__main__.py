"""``python -m tradevc.service``: the same as ``tradevc-serve``."""

from tradevc.service.cli import main

main()
