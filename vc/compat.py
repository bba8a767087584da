"""A compatibility profile for credentials made before the W3C Recommendations: off by default.

Credentials from trade pilots of 2023 and 2024 use forms the Recommendations no longer
allow. A :class:`Compatibility` names, one by one, the deviations a verifier agrees to
tolerate; everything else stays strict (signatures, the issuer binding, the status bits,
validity periods, trust). Every deviation that was actually tolerated puts a warning into
the report naming it (``compat:<id>: ...``), so an officer sees exactly what was accepted.

=================================  =========================================================
deviation id                       what is tolerated
=================================  =========================================================
``envelope-media-type``            an ``EnvelopedVerifiableCredential`` whose ``data:`` URL
                                   says ``application/vc-ld+jwt`` or
                                   ``application/vc+ld+json+jwt`` instead of
                                   ``application/vc+jwt``
``envelope-separator``             a ``;`` where the ``data:`` URL wants the ``,`` before the
                                   token (``data:application/vc+jwt;eyJ...``)
``jose-typ``                       a credential token whose ``typ`` is one of the drafts'
                                   ``vc+ld+json+jwt`` / ``vc-ld+jwt`` (with
                                   ``cty`` absent, ``vc`` or ``vc+ld+json``) instead of
                                   ``vc+jwt``
``status-list-issuer-name``        a status list credential whose ``issuer`` is a plain name,
                                   not a URL: the list is bound to the DID of the key that
                                   signed it instead, which must still be the credential's
                                   issuer
``encoded-list-prefix``            an ``encodedList`` without the multibase ``u`` prefix
                                   (base64url of the GZIP'd bitstring; the size limits stay)
``status-list-id-trailing-slash``  a status list ``id`` that differs from the entry's
                                   ``statusListCredential`` URL by exactly one trailing ``/``
``ed25519-signature-2018``         legacy ``Ed25519Signature2018`` proofs (verify only)
=================================  =========================================================

Profiles name a set of deviations: ``pilots-2023`` is all of the above.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Compatibility", "STRICT", "DEVIATIONS", "PROFILES", "WARNING_PREFIX"]

WARNING_PREFIX = "compat:"

DEVIATIONS: dict[str, str] = {
    "envelope-media-type": "envelope_media_type",
    "envelope-separator": "envelope_separator",
    "jose-typ": "jose_typ",
    "status-list-issuer-name": "status_list_issuer_name",
    "encoded-list-prefix": "encoded_list_prefix",
    "status-list-id-trailing-slash": "status_list_id_trailing_slash",
    "ed25519-signature-2018": "ed25519_signature_2018",
}
"""Each deviation id and the :class:`Compatibility` field that allows it."""

PROFILES: dict[str, tuple[str, ...]] = {
    "pilots-2023": tuple(DEVIATIONS),
}
"""Named profiles: the deviation ids each one allows."""


@dataclass(frozen=True)
class Compatibility:
    """The deviations from the Recommendations a verifier tolerates; all off by default
    (:data:`STRICT`). Build one with :meth:`profile`, :meth:`of` or the field names."""

    envelope_media_type: bool = False
    envelope_separator: bool = False
    jose_typ: bool = False
    status_list_issuer_name: bool = False
    encoded_list_prefix: bool = False
    status_list_id_trailing_slash: bool = False
    ed25519_signature_2018: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), bool):
                raise TypeError(f"Compatibility.{f.name} must be a bool")

    @classmethod
    def profile(cls, name: str) -> "Compatibility":
        """The named profile (see :data:`PROFILES`).

        :raises ValueError: no profile of that name.
        """
        if name not in PROFILES:
            raise ValueError(f"unknown compatibility profile {name!r} (known: {', '.join(sorted(PROFILES))})")
        return cls.of(*PROFILES[name])

    @classmethod
    def of(cls, *names: str) -> "Compatibility":
        """Allow the deviations and profiles called ``names`` (ids of :data:`DEVIATIONS`, or
        names of :data:`PROFILES`); ``of()`` is strict.

        :raises ValueError: a name that is neither a deviation id nor a profile.
        """
        allowed: dict[str, bool] = {}
        for name in names:
            if name in PROFILES:
                allowed.update((DEVIATIONS[d], True) for d in PROFILES[name])
            elif name in DEVIATIONS:
                allowed[DEVIATIONS[name]] = True
            else:
                known = ", ".join(sorted(PROFILES) + sorted(DEVIATIONS))
                raise ValueError(f"unknown compatibility profile or deviation {name!r} (known: {known})")
        return cls(**allowed)

    @property
    def strict(self) -> bool:
        """True if no deviation is allowed."""
        return not any(getattr(self, f.name) for f in fields(self))

    @property
    def allowed(self) -> tuple[str, ...]:
        """The ids of the deviations allowed, in the order of :data:`DEVIATIONS`."""
        return tuple(d for d, attr in DEVIATIONS.items() if getattr(self, attr))

    def allows(self, deviation: str) -> bool:
        """True if the deviation ``deviation`` (an id) is tolerated.

        :raises ValueError: not a deviation id (a typo must not read as "not allowed").
        """
        try:
            return bool(getattr(self, DEVIATIONS[deviation]))
        except KeyError:
            raise ValueError(f"unknown compatibility deviation {deviation!r}") from None


STRICT = Compatibility()
"""No deviation tolerated: what the Recommendations say, and the default everywhere."""


def warning(deviation: str, detail: str) -> str:
    """The report warning for a tolerated deviation: ``compat:<id>: <detail>``."""
    if deviation not in DEVIATIONS:
        raise ValueError(f"unknown compatibility deviation {deviation!r}")
    return f"{WARNING_PREFIX}{deviation}: {detail}"


def require_compatibility(value: Any) -> Compatibility:
    """``value`` if it is a :class:`Compatibility`, :data:`STRICT` for None; a profile or
    deviation name, or a set, list or tuple of them, means :meth:`Compatibility.of` those
    names (``compatibility={"pilots-2023"}``).

    :raises TypeError: anything else (a mapping, a bool, a collection holding a non-string).
    :raises ValueError: a name that is neither a deviation id nor a profile.
    """
    if value is None:
        return STRICT
    if isinstance(value, Compatibility):
        return value
    if isinstance(value, str):
        return Compatibility.of(value)
    if isinstance(value, (set, frozenset, list, tuple)) and all(isinstance(v, str) for v in value):
        return Compatibility.of(*sorted(value))
    raise TypeError(
        "compatibility must be a tradevc.vc.compat.Compatibility or profile/deviation names, "
        "e.g. Compatibility.profile('pilots-2023') or {'pilots-2023'}"
    )

