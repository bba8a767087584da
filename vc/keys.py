"""Key pairs for signing and verifying: Ed25519, ECDSA P-256 and ECDSA P-384.

A :class:`KeyPair` wraps a ``cryptography`` public key and, optionally, its private key. It
reads and writes the formats the W3C specifications use:

* **Multikey** (Controlled Identifiers 1.0, section 2.2.2): ``publicKeyMultibase`` is
  ``"z"`` + base58btc(unsigned-varint multicodec + key bytes), with the multicodecs
  ``ed25519-pub`` (0xed, 32 bytes), ``p256-pub`` (0x1200, 33-byte compressed point) and
  ``p384-pub`` (0x1201, 49-byte compressed point); ``secretKeyMultibase`` uses ``ed25519-priv``
  (0x1300, the 32-byte seed), ``p256-priv`` (0x1306) and ``p384-priv`` (0x1307) with the raw
  private scalar at its fixed length (32 / 48 bytes);
* **JWK** (RFC 7517, RFC 7518 section 6.2, RFC 8037);
* **did:key** identifiers (``did:key:`` + publicKeyMultibase).

Every decoder refuses key material it cannot trust, with :class:`tradevc.vc.errors.KeyMaterialError`:
unknown or mismatched multicodecs, wrong lengths, EC points off the curve or encoded
non-canonically, secrets that do not belong to the public key, and *weak Ed25519 public keys*
(non-canonical encodings and points of small order). The last matters: ``cryptography``
(OpenSSL) accepts the identity point ``01 00..00`` as a public key, and for that key the fixed
signature R = ``01 00..00``, S = 0 verifies for *every* message.

Ed25519 signatures are verified strictly: one whose R is a point of small order or is encoded
non-canonically, or whose S is not below the group order L, is refused (:meth:`KeyPair.verify`,
which every verification path calls: JWS and the Data Integrity cryptosuites).

Signatures are raw: 64 bytes for Ed25519, and IEEE P1363 ``r || s`` (64 / 96 bytes) for ECDSA,
as JOSE and the Data Integrity ECDSA cryptosuites use. :meth:`KeyPair.verify` raises only
``cryptography.exceptions.InvalidSignature`` for any bad signature value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
    load_pem_private_key,
)

from tradevc.vc.errors import InvalidDocument, KeyMaterialError, UnsupportedError
from tradevc.vc.sealed import DerivedKey, seal, unseal
from tradevc.vc.multibase import (
    base58btc_encode,
    base64url_decode,
    base64url_encode,
    multibase_decode,
    multicodec_unwrap,
    multicodec_wrap,
)

__all__ = ["KeyPair", "KEY_TYPES"]

SEALED_KEY_KIND = "private-key"  # the ``kind`` of a sealed key file (tradevc.vc.sealed)


# -- key type table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    key_type: str
    algorithm: str  # JOSE "alg"
    public_codec: int
    secret_codec: int
    public_length: int  # Multikey public key bytes (compressed point for EC)
    secret_length: int
    order: int  # order of the base point (group order for Ed25519)
    curve: ec.EllipticCurve | None = None
    hash: hashes.HashAlgorithm | None = None
    jwk_alg: tuple[str, ...] = ()

    @property
    def coordinate_length(self) -> int:
        return self.secret_length


_ED25519_L = 2**252 + 27742317777372353535851937790883648493

_SPECS: dict[str, _Spec] = {
    "Ed25519": _Spec(
        "Ed25519", "Ed25519", 0xED, 0x1300, 32, 32, _ED25519_L, jwk_alg=("EdDSA", "Ed25519")
    ),
    "P-256": _Spec(
        "P-256",
        "ES256",
        0x1200,
        0x1306,
        33,
        32,
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        ec.SECP256R1(),
        hashes.SHA256(),
        ("ES256",),
    ),
    "P-384": _Spec(
        "P-384",
        "ES384",
        0x1201,
        0x1307,
        49,
        48,
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
        ec.SECP384R1(),
        hashes.SHA384(),
        ("ES384",),
    ),
}

KEY_TYPES: frozenset[str] = frozenset(_SPECS)
"""The supported key types: ``"Ed25519"``, ``"P-256"``, ``"P-384"``."""

_BY_PUBLIC_CODEC = {spec.public_codec: spec for spec in _SPECS.values()}
_BY_SECRET_CODEC = {spec.secret_codec: spec for spec in _SPECS.values()}

# Multicodec names (https://github.com/multiformats/multicodec/blob/master/table.csv), for
# error messages naming what a value holds.
_CODEC_NAMES = {
    0xED: "ed25519-pub",
    0x1200: "p256-pub",
    0x1201: "p384-pub",
    0x1300: "ed25519-priv, a secret key",
    0x1306: "p256-priv, a secret key",
    0x1307: "p384-priv, a secret key",
    0xE7: "secp256k1-pub",
    0xEA: "bls12_381-g1-pub",
    0xEB: "bls12_381-g2-pub",
    0xEC: "x25519-pub",
    0xEE: "bls12_381-g1g2-pub",
    0x1202: "p521-pub",
    0x1203: "ed448-pub",
    0x1205: "rsa-pub",
    0x1301: "secp256k1-priv, a secret key",
    0x1302: "x25519-priv, a secret key",
}


def _codec_name(code: int) -> str:
    return f"multicodec 0x{code:x} ({_CODEC_NAMES.get(code, 'unknown')})"


def _spec_for(key_type: object) -> _Spec:
    spec = _SPECS.get(key_type) if isinstance(key_type, str) else None
    if spec is None:
        raise UnsupportedError(f"key type {key_type!r} is not supported (supported: Ed25519, P-256, P-384)")
    return spec


# -- Edwards25519 public key checks --------------------------------------------------------------
#
# Just enough curve arithmetic to refuse weak Ed25519 public keys. The curve is
# -x^2 + y^2 = 1 + d x^2 y^2 over GF(p), p = 2^255 - 19, d = -121665/121666. Its group has
# order 8 * L; the 8 points whose order divides 8 (the "torsion" points) are exactly the P with
# [8]P = identity (0, 1). A public key A among them makes [k]A take at most 8 values whatever the
# message hash k is, so signatures can be forged without the secret (with A = identity,
# R = identity and S = 0 satisfy [S]B = R + [k]A for every message). We decode as RFC 8032
# section 5.1.3 does, but strictly (refusing y >= p and "negative zero" x), then multiply by 8 with
# the complete twisted Edwards addition law (complete because d is not a square mod p, so the
# denominators never vanish). Speed is irrelevant: this runs once per decoded key.

_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)  # a square root of -1 mod p
_IDENTITY = (0, 1)


def _ed25519_decode_point(data: bytes) -> tuple[int, int]:
    """Decode a 32-byte Edwards25519 point, refusing every non-canonical encoding."""
    encoded = int.from_bytes(data, "little")
    sign = encoded >> 255
    y = encoded & ((1 << 255) - 1)
    if y >= _P:
        raise KeyMaterialError("non-canonical Ed25519 public key: its y coordinate is not reduced modulo 2^255-19")
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    # x = sqrt(u / v), computed as in RFC 8032: x = u v^3 (u v^7)^((p-5)/8)
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vx2 = v * x * x % _P
    if vx2 == (-u) % _P and vx2 != u:
        x = x * _SQRT_M1 % _P
    elif vx2 != u:
        raise KeyMaterialError("invalid Ed25519 public key: the bytes do not encode a point on the curve")
    if x == 0 and sign:
        raise KeyMaterialError("non-canonical Ed25519 public key: x = 0 encoded with the sign bit set")
    if x & 1 != sign:
        x = _P - x
    return x, y


def _ed25519_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, _P) % _P
    return x3, y3


def _check_ed25519_public(data: bytes) -> None:
    """Refuse non-canonical, off-curve and small-order Ed25519 public keys (KeyMaterialError)."""
    point = _ed25519_decode_point(data)
    for _ in range(3):  # [8]P by three doublings
        point = _ed25519_add(point, point)
    if point == _IDENTITY:
        raise KeyMaterialError(
            "weak Ed25519 public key: a point of small order (its order divides 8), "
            "for which signatures can be forged without the secret key"
        )


# -- strict Ed25519 signatures -------------------------------------------------------------------
#
# OpenSSL (through ``cryptography``) verifies Ed25519 cofactorless and already refuses S >= L and
# any R whose encoding is not the canonical encoding of the point it computes. It does not refuse
# an R of small order: with a mixed-order public key (a strong key plus a torsion component,
# which the key checks above let through because [8]A is not the identity) such an R makes
# signatures that one verifier accepts and another refuses (ed25519-speccheck case 2). RFC 8032
# section 5.1.7 leaves this open; libsodium and "Taming the many EdDSAs" refuse it. So before
# OpenSSL sees a signature we refuse, by its encoding alone (two integer conversions and a set
# lookup, no curve arithmetic):
# * R with y >= p (a non-canonical encoding),
# * R of small order: a small-order point is fixed by its y up to the sign of x, so R's y is one
#   of the five y values of the 8 torsion points (this includes "negative zero", x = 0 with the
#   sign bit set, for the identity and the point of order 2),
# * S >= L (a non-canonical scalar; OpenSSL refuses it too, checked here so the rule does not
#   depend on the backend).

_Y_MASK = (1 << 255) - 1


def _torsion_y_values() -> frozenset[int]:
    """The y coordinates of the 8 points of order dividing 8: the multiples of a point of order 8."""
    order8 = _ed25519_decode_point(bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"))
    point, ys = _IDENTITY, set()
    for _ in range(8):
        ys.add(point[1])
        point = _ed25519_add(point, order8)
    assert point == _IDENTITY and len(ys) == 5
    return frozenset(ys)


_SMALL_ORDER_Y = _torsion_y_values()


def _check_ed25519_signature_encoding(signature: bytes) -> None:
    """Refuse a 64-byte Ed25519 signature whose R is non-canonical or of small order, or whose
    S is not below L (InvalidSignature)."""
    r_y = int.from_bytes(signature[:32], "little") & _Y_MASK
    if r_y >= _P:
        raise InvalidSignature("non-canonical Ed25519 signature: R's y coordinate is not reduced modulo 2^255-19")
    if r_y in _SMALL_ORDER_Y:
        raise InvalidSignature("Ed25519 signature refused: R is a point of small order (its order divides 8)")
    if int.from_bytes(signature[32:], "little") >= _ED25519_L:
        raise InvalidSignature("non-canonical Ed25519 signature: S is not below the group order L")


# -- constructors of cryptography key objects ----------------------------------------------------

# The key objects of the three key types: Ed25519 where the spec has no curve, EC otherwise.
_PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
_SecretKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def _public_from_bytes(spec: _Spec, data: bytes, *, compressed_only: bool) -> _PublicKey:
    if spec.curve is None:
        if len(data) != 32:
            raise KeyMaterialError(f"an Ed25519 public key is 32 bytes, not {len(data)}")
        _check_ed25519_public(data)
        return Ed25519PublicKey.from_public_bytes(data)
    size = spec.coordinate_length
    compressed = len(data) == size + 1 and data[:1] in (b"\x02", b"\x03")
    uncompressed = len(data) == 2 * size + 1 and data[:1] == b"\x04"
    if compressed_only and not compressed:
        raise KeyMaterialError(
            f"a {spec.key_type} Multikey public key is a {size + 1}-byte compressed point "
            f"(prefix 02 or 03), not {len(data)} bytes starting with {data[:1].hex() or 'nothing'}"
        )
    if not (compressed or uncompressed):
        raise KeyMaterialError(
            f"a {spec.key_type} public key is a {size + 1}-byte compressed or {2 * size + 1}-byte "
            f"uncompressed SEC1 point, not {len(data)} bytes starting with {data[:1].hex() or 'nothing'}"
        )
    assert spec.curve is not None
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(spec.curve, data)
    except ValueError as e:
        raise KeyMaterialError(f"invalid {spec.key_type} public key: not a point on the curve ({e})") from e
    fmt = PublicFormat.CompressedPoint if compressed else PublicFormat.UncompressedPoint
    if key.public_bytes(Encoding.X962, fmt) != data:
        raise KeyMaterialError(f"non-canonical {spec.key_type} public key encoding")
    return key


def _secret_from_bytes(spec: _Spec, data: bytes) -> _SecretKey:
    if len(data) != spec.secret_length:
        raise KeyMaterialError(f"a {spec.key_type} secret key is {spec.secret_length} bytes, not {len(data)}")
    if spec.curve is None:
        return Ed25519PrivateKey.from_private_bytes(data)
    scalar = int.from_bytes(data, "big")
    if not 1 <= scalar < spec.order:
        raise KeyMaterialError(f"invalid {spec.key_type} secret key: the scalar is not in [1, n-1]")
    return ec.derive_private_key(scalar, spec.curve)


def _raw_public(spec: _Spec, key: _PublicKey) -> bytes:
    if spec.curve is None:
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def _raw_secret(spec: _Spec, key: _SecretKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):  # spec.curve is None
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return key.private_numbers().private_value.to_bytes(spec.secret_length, "big")


def _decode_key_multibase(value: object, what: str) -> tuple[int, bytes]:
    if not isinstance(value, str):
        raise KeyMaterialError(f"{what} must be a string, not {type(value).__name__}")
    if not value.startswith("z"):
        raise KeyMaterialError(f"{what} must be base58btc multibase (start with 'z'): {value[:12]!r}...")
    try:
        return multicodec_unwrap(multibase_decode(value))
    except InvalidDocument as e:
        raise KeyMaterialError(f"{what} is malformed: {e.message}") from e


def _jwk_bytes(jwk: Mapping[str, Any], member: str, length: int, what: str) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str):
        raise KeyMaterialError(f"{what} JWK needs a string member {member!r}")
    try:
        data = base64url_decode(value)
    except InvalidDocument as e:
        raise KeyMaterialError(f"{what} JWK member {member!r} is not base64url: {e.message}") from e
    if len(data) != length:
        raise KeyMaterialError(f"{what} JWK member {member!r} must encode {length} bytes, not {len(data)}")
    return data


# -- the key pair --------------------------------------------------------------------------------


class KeyPair:
    """An Ed25519, P-256 or P-384 public key, with or without its secret key. Immutable.

    Build one with :meth:`generate`, :meth:`from_multibase`, :meth:`from_jwk` or
    :meth:`from_public_key_bytes`; the constructor itself takes already-validated
    ``cryptography`` key objects and is internal.
    """

    __slots__ = ("_spec", "_public", "_secret", "_public_bytes")

    _spec: _Spec
    _public: _PublicKey
    _secret: _SecretKey | None
    _public_bytes: bytes

    def __init__(self, spec: _Spec, public_key: _PublicKey, secret_key: _SecretKey | None = None) -> None:
        object.__setattr__(self, "_spec", spec)
        object.__setattr__(self, "_public", public_key)
        object.__setattr__(self, "_secret", secret_key)
        object.__setattr__(self, "_public_bytes", _raw_public(spec, public_key))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("KeyPair is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("KeyPair is immutable")

    def __copy__(self) -> KeyPair:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> KeyPair:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("KeyPair objects are not picklable (they may hold a secret key)")

    def __repr__(self) -> str:
        return f"KeyPair(key_type={self.key_type!r}, did={self.did!r}, has_secret={self.has_secret})"

    # -- constructors ----------------------------------------------------------------------------

    @classmethod
    def generate(cls, key_type: str = "Ed25519") -> KeyPair:
        """A new random key pair of ``key_type`` (``"Ed25519"``, ``"P-256"`` or ``"P-384"``).

        :raises UnsupportedError: another key type.
        """
        spec = _spec_for(key_type)
        secret = Ed25519PrivateKey.generate() if spec.curve is None else ec.generate_private_key(spec.curve)
        return cls(spec, secret.public_key(), secret)

    @classmethod
    def from_multibase(cls, public_multibase: str, secret_multibase: str | None = None) -> KeyPair:
        """A key pair from its Multikey ``publicKeyMultibase`` and, optionally, ``secretKeyMultibase``.

        :raises KeyMaterialError: a value is not a string or not base58btc multibase; its
            multicodec is not ``ed25519-pub``/``p256-pub``/``p384-pub`` (or the matching ``-priv``
            for the secret); the key has the wrong length; an EC point is not on the curve or not
            compressed; the Ed25519 key is weak (small order) or non-canonical; the secret key
            does not belong to the public key.
        """
        code, data = _decode_key_multibase(public_multibase, "publicKeyMultibase")
        spec = _BY_PUBLIC_CODEC.get(code)
        if spec is None:
            raise KeyMaterialError(
                f"publicKeyMultibase has {_codec_name(code)}, not an Ed25519, P-256 or P-384 public key "
                "(ed25519-pub, p256-pub, p384-pub)"
            )
        if len(data) != spec.public_length:
            shape = "" if spec.curve is None else " (a compressed point)"
            raise KeyMaterialError(
                f"publicKeyMultibase: a {spec.key_type} public key ({_codec_name(code)}) is "
                f"{spec.public_length} bytes{shape}, not {len(data)}"
            )
        public = _public_from_bytes(spec, data, compressed_only=True)
        if secret_multibase is None:
            return cls(spec, public)
        secret_code, secret_data = _decode_key_multibase(secret_multibase, "secretKeyMultibase")
        if secret_code != spec.secret_codec:
            raise KeyMaterialError(
                f"secretKeyMultibase has {_codec_name(secret_code)}, but the public key is {spec.key_type} "
                f"(expected {_codec_name(spec.secret_codec)})"
            )
        secret = _secret_from_bytes(spec, secret_data)
        if _raw_public(spec, secret.public_key()) != data:
            raise KeyMaterialError("the secret key does not match the public key")
        return cls(spec, public, secret)

    @classmethod
    def from_public_key_bytes(cls, key_type: str, data: bytes) -> KeyPair:
        """A public-only key pair from raw key bytes: 32 bytes for Ed25519, a compressed or
        uncompressed SEC1 point for P-256 / P-384.

        :raises UnsupportedError: an unknown ``key_type``.
        :raises KeyMaterialError: wrong length, point not on the curve, non-canonical encoding,
            or a weak (small-order) Ed25519 key.
        """
        spec = _spec_for(key_type)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise KeyMaterialError(f"public key bytes must be bytes, not {type(data).__name__}")
        return cls(spec, _public_from_bytes(spec, bytes(data), compressed_only=False))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> KeyPair:
        """A key pair from a JWK: ``OKP``/``Ed25519`` (RFC 8037) or ``EC``/``P-256``/``P-384``
        (RFC 7518). With a ``"d"`` member the key pair has its secret.

        :raises UnsupportedError: another ``kty`` or ``crv`` (RSA, X25519, P-521, secp256k1...).
        :raises KeyMaterialError: not an object; missing, non-base64url or wrong-length members;
            a point not on the curve; a weak Ed25519 key; ``d`` not matching the public key;
            an ``alg`` that does not fit the key.
        """
        if not isinstance(jwk, Mapping):
            raise KeyMaterialError(f"a JWK must be a JSON object, not {type(jwk).__name__}")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        if not isinstance(kty, str):
            raise KeyMaterialError("a JWK needs a string 'kty' member")
        if kty == "OKP":
            if crv != "Ed25519":
                raise UnsupportedError(f"JWK key type OKP with curve {crv!r} is not supported (only Ed25519)")
        elif kty == "EC":
            if crv not in ("P-256", "P-384"):
                raise UnsupportedError(f"JWK key type EC with curve {crv!r} is not supported (only P-256, P-384)")
        else:
            raise UnsupportedError(f"JWK key type {kty!r} is not supported (only OKP/Ed25519 and EC/P-256, P-384)")
        spec = _SPECS[crv]
        alg = jwk.get("alg")
        if alg is not None and alg not in spec.jwk_alg:
            raise KeyMaterialError(f"JWK 'alg' {alg!r} does not fit a {spec.key_type} key (expected {spec.jwk_alg[0]})")
        what = f"{kty}/{crv}"
        if spec.curve is None:
            public_data = _jwk_bytes(jwk, "x", 32, what)
        else:
            size = spec.coordinate_length
            public_data = b"\x04" + _jwk_bytes(jwk, "x", size, what) + _jwk_bytes(jwk, "y", size, what)
        public = _public_from_bytes(spec, public_data, compressed_only=False)
        if "d" not in jwk:
            return cls(spec, public)
        secret = _secret_from_bytes(spec, _jwk_bytes(jwk, "d", spec.secret_length, what))
        if _raw_public(spec, secret.public_key()) != _raw_public(spec, public):
            raise KeyMaterialError(f"{what} JWK: the private key 'd' does not match the public key")
        return cls(spec, public, secret)

    # -- properties ------------------------------------------------------------------------------

    @property
    def key_type(self) -> str:
        """``"Ed25519"``, ``"P-256"`` or ``"P-384"``."""
        return self._spec.key_type

    @property
    def algorithm(self) -> str:
        """The JOSE algorithm name: ``"Ed25519"``, ``"ES256"`` or ``"ES384"``."""
        return self._spec.algorithm

    @property
    def has_secret(self) -> bool:
        """True if this key pair can sign."""
        return self._secret is not None

    @property
    def public_key_bytes(self) -> bytes:
        """The raw public key: 32 bytes (Ed25519) or the compressed SEC1 point (P-256 / P-384)."""
        return self._public_bytes

    @property
    def public_key_multibase(self) -> str:
        """The Multikey ``publicKeyMultibase``: ``"z"`` + base58btc(multicodec varint + key bytes)."""
        return "z" + base58btc_encode(multicodec_wrap(self._spec.public_codec, self._public_bytes))

    @property
    def secret_key_multibase(self) -> str | None:
        """The Multikey ``secretKeyMultibase``, or None for a public-only key pair."""
        if self._secret is None:
            return None
        return "z" + base58btc_encode(multicodec_wrap(self._spec.secret_codec, _raw_secret(self._spec, self._secret)))

    @property
    def did(self) -> str:
        """The did:key DID of the public key."""
        return "did:key:" + self.public_key_multibase

    @property
    def verification_method(self) -> str:
        """The did:key verification method id: ``did + "#" + publicKeyMultibase``."""
        return self.did + "#" + self.public_key_multibase

    # -- export ----------------------------------------------------------------------------------

    def to_jwk(self, *, private: bool = False) -> dict[str, str]:
        """The public key as a JWK (RFC 7517 / 7518 / 8037), with ``"d"`` if ``private``.

        :raises KeyMaterialError: ``private=True`` on a public-only key pair.
        """
        if private and self._secret is None:
            raise KeyMaterialError("this key pair has no secret key to export")
        spec = self._spec
        if isinstance(self._public, Ed25519PublicKey):  # spec.curve is None
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(self._public_bytes)}
        else:
            numbers = self._public.public_numbers()
            size = spec.coordinate_length
            jwk = {
                "kty": "EC",
                "crv": spec.key_type,
                "x": base64url_encode(numbers.x.to_bytes(size, "big")),
                "y": base64url_encode(numbers.y.to_bytes(size, "big")),
            }
        if private and self._secret is not None:  # (checked above)
            jwk["d"] = base64url_encode(_raw_secret(spec, self._secret))
        return jwk

    def to_multikey(self, *, controller: str | None = None, id: str | None = None) -> dict[str, str]:
        """The public key as a ``Multikey`` verification method.

        ``controller`` defaults to :attr:`did`; ``id`` defaults to ``controller + "#" +
        publicKeyMultibase`` (so, with both left out, to :attr:`verification_method`).
        """
        controller = self.did if controller is None else controller
        return {
            "id": f"{controller}#{self.public_key_multibase}" if id is None else id,
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": self.public_key_multibase,
        }

    def to_encrypted_pem(self, passphrase: bytes) -> bytes:
        """The key pair as PKCS#8 PEM, encrypted with ``passphrase`` by what ``cryptography``
        calls the best available encryption: PBKDF2 at 2048 iterations, cheap to guess. The
        issuer's keys were kept this way before :meth:`to_sealed`; kept to read such files.

        :raises KeyMaterialError: no secret key, or an empty passphrase.
        """
        if self._secret is None:
            raise KeyMaterialError("this key pair has no secret key to store")
        if not passphrase:
            raise KeyMaterialError("a key at rest needs a non-empty passphrase")
        return self._secret.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase))

    @classmethod
    def from_encrypted_pem(cls, data: bytes, passphrase: bytes) -> KeyPair:
        """Load a key pair written by :meth:`to_encrypted_pem`.

        :raises KeyMaterialError: wrong passphrase, a corrupt file, or an unsupported key type
            (the message does not say which of the first two).
        """
        try:
            secret = load_pem_private_key(data, password=passphrase)
        except (ValueError, TypeError) as e:
            raise KeyMaterialError("cannot decrypt the key: wrong passphrase or corrupt key file") from e
        return cls._from_secret(secret)

    def to_sealed(self, key: DerivedKey) -> bytes:
        """The key pair as PKCS#8 (DER) sealed by :func:`tradevc.vc.sealed.seal` under ``key``
        (scrypt, then AES-256-GCM; ``kind`` ``"private-key"``). For keys at rest.

        :raises KeyMaterialError: no secret key.
        """
        if self._secret is None:
            raise KeyMaterialError("this key pair has no secret key to store")
        der = self._secret.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        return seal(der, key, kind=SEALED_KEY_KIND)

    @classmethod
    def from_sealed(
        cls, data: bytes, passphrase: bytes, *, cached: DerivedKey | None = None
    ) -> tuple[KeyPair, DerivedKey]:
        """Load a key pair written by :meth:`to_sealed`, with the key that opened it (pass it as
        ``cached`` next time, for the same passphrase, to skip scrypt).

        :raises WrongPassphrase: the passphrase does not open it.
        :raises DamagedSealedFile: not a sealed key, truncated or altered.
        :raises KeyMaterialError: an unsupported or invalid key inside.
        """
        opened = unseal(data, passphrase, kind=SEALED_KEY_KIND, cached=cached, what="key")
        try:
            secret = load_der_private_key(opened.plaintext, password=None)
        except (ValueError, TypeError) as e:
            raise KeyMaterialError("the sealed key file does not hold a private key") from e
        return cls._from_secret(secret), opened.key

    @classmethod
    def _from_secret(cls, secret: Any) -> KeyPair:
        if isinstance(secret, Ed25519PrivateKey):
            spec = _SPECS["Ed25519"]
        elif isinstance(secret, ec.EllipticCurvePrivateKey) and secret.curve.name in ("secp256r1", "secp384r1"):
            spec = _SPECS["P-256" if secret.curve.name == "secp256r1" else "P-384"]
        else:
            raise KeyMaterialError(f"unsupported key in the key file: {type(secret).__name__}")
        public = secret.public_key()
        _public_from_bytes(spec, _raw_public(spec, public), compressed_only=False)  # same checks as any key
        return cls(spec, public, secret)

    # -- sign and verify -------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: a 64-byte Ed25519 signature, or an ECDSA signature with SHA-256 (P-256)
        or SHA-384 (P-384) as IEEE P1363 ``r || s`` (64 or 96 bytes).

        ECDSA signatures are deterministic (RFC 6979, part of FIPS 186-5): the nonce comes from
        the key and the message, not from the random number generator, so a weak generator
        cannot leak the key, and signing the same bytes twice gives the same signature (the
        W3C ECDSA cryptosuite vectors are made this way and are reproduced byte for byte).

        :raises KeyMaterialError: the key pair has no secret key.
        :raises TypeError: ``data`` is not bytes.
        """
        secret = self._secret
        if secret is None:
            raise KeyMaterialError(f"cannot sign with {self.verification_method}: the key pair has no secret key")
        spec = self._spec
        if isinstance(secret, Ed25519PrivateKey):  # spec.curve is None
            return secret.sign(data)
        assert spec.hash is not None
        r, s = decode_dss_signature(secret.sign(data, ec.ECDSA(spec.hash, deterministic_signing=True)))
        size = spec.coordinate_length
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def verify(self, signature: bytes, data: bytes) -> None:
        """Check ``signature`` (as :meth:`sign` makes them) over ``data``.

        Ed25519 is verified strictly: besides the key checks made when the key was loaded, a
        signature whose ``R`` is of small order or non-canonically encoded (y >= p), or whose
        ``S`` is not below the group order L, is refused before the equation is checked.

        :raises cryptography.exceptions.InvalidSignature: the signature is not valid: wrong
            length, not bytes, ``r`` or ``s`` outside ``[1, n-1]``, an Ed25519 ``R`` or ``S``
            refused as above, or it does not verify.
        :raises TypeError: ``data`` is not bytes.
        """
        if not isinstance(signature, (bytes, bytearray, memoryview)):
            raise InvalidSignature(f"a signature must be bytes, not {type(signature).__name__}")
        signature = bytes(signature)
        spec = self._spec
        public = self._public
        if isinstance(public, Ed25519PublicKey):  # spec.curve is None
            if len(signature) != 64:
                raise InvalidSignature(f"an Ed25519 signature is 64 bytes, not {len(signature)}")
            _check_ed25519_signature_encoding(signature)
            public.verify(signature, data)
            return
        size = spec.coordinate_length
        if len(signature) != 2 * size:
            raise InvalidSignature(f"an {spec.algorithm} signature is {2 * size} bytes (r || s), not {len(signature)}")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        if not (1 <= r < spec.order and 1 <= s < spec.order):
            raise InvalidSignature(f"{spec.algorithm} signature values r and s must be in [1, n-1]")
        assert spec.hash is not None
        public.verify(encode_dss_signature(r, s), data, ec.ECDSA(spec.hash))
