"""Which securing mechanism a document uses: each mechanism, asked in turn, recognises its own
form. A new mechanism (ecdsa-sd-2023, SD-JWT VC) is a new module and one more entry here; the
pipeline does not change."""

from __future__ import annotations

from typing import Any

from tradevc.vc.securing import data_integrity, jose
from tradevc.vc.securing.enveloped import Enveloped
from tradevc.vc.securing.mechanism import SecuringMechanism

__all__ = ["MECHANISMS", "JOSE_MECHANISMS", "detect"]

MECHANISMS: tuple[SecuringMechanism, ...] = (jose.MECHANISM, Enveloped(jose.MECHANISM), data_integrity.MECHANISM)
"""In the order they are asked; Data Integrity last, as it takes any JSON object (and its
structure check says what is wrong with one that has no proof)."""

JOSE_MECHANISMS: tuple[SecuringMechanism, ...] = MECHANISMS[:2]
"""The mechanisms of a compact JWS, bare or enveloped (what ``verify_credential_jwt`` accepts)."""


def detect(document: Any, mechanisms: tuple[SecuringMechanism, ...] = MECHANISMS) -> SecuringMechanism | None:
    """The first of ``mechanisms`` that recognises ``document``, or None."""
    for mechanism in mechanisms:
        if mechanism.recognise(document):
            return mechanism
    return None
