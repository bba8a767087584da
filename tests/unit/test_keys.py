"""vc.keys.KeyPair: the did:key and W3C vectors, round trips, signatures, and every refusal."""

from __future__ import annotations

import copy

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_vector
from tradevc.vc import keys as keys_module
from tradevc.vc.errors import InvalidDocument, KeyMaterialError, UnsupportedError
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_decode, base58btc_encode, base64url_decode, base64url_encode, multicodec_wrap

KEY_TYPES = ["Ed25519", "P-256", "P-384"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ORDER = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
}
FIELD_PRIME = {"P-256": 2**256 - 2**224 + 2**192 + 2**96 - 1, "P-384": 2**384 - 2**128 - 2**96 + 2**32 - 1}
CURVE = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
SIZE = {"Ed25519": 32, "P-256": 32, "P-384": 48}
PUBLIC_CODEC = {"Ed25519": 0xED, "P-256": 0x1200, "P-384": 0x1201}
SECRET_CODEC = {"Ed25519": 0x1300, "P-256": 0x1306, "P-384": 0x1307}
ED25519_L = 2**252 + 27742317777372353535851937790883648493


def z(code: int, data: bytes) -> str:
    """A Multikey-style multibase value: 'z' + base58btc(varint(code) + data)."""
    return "z" + base58btc_encode(multicodec_wrap(code, data))


def secret_multibase(key_type: str, secret: bytes) -> str:
    return z(SECRET_CODEC[key_type], secret)


# -- vectors: w3c-ccg/did-method-key ----------------------------------------------------------------

ED25519_VECTORS = load_vector("did-key/ed25519-x25519.json")
NIST_VECTORS = load_vector("did-key/nist-curves.json")


def _vector_id(did: str) -> str:
    return did[len("did:key:"):][:16]


@pytest.mark.parametrize("did", list(ED25519_VECTORS), ids=_vector_id)
def test_ed25519_vector_did_to_key_bytes_and_back(did):
    vector = ED25519_VECTORS[did]
    vm = vector["verificationKeyPair"]
    if "publicKeyBase58" in vm:
        expected = base58btc_decode(vm["publicKeyBase58"])
    else:
        expected = base64url_decode(vm["publicKeyJwk"]["x"])
    key = KeyPair.from_multibase(did[len("did:key:"):])
    assert key.key_type == "Ed25519" and key.algorithm == "Ed25519"
    assert key.public_key_bytes == expected
    assert key.did == did
    # the vectors' fragment is the multibase key itself
    assert key.verification_method == vector["didDocument"]["verificationMethod"][0]["id"]
    assert vm["id"] in (key.verification_method, "#" + key.public_key_multibase)
    assert KeyPair.from_public_key_bytes("Ed25519", expected).did == did
    assert key.to_jwk() == {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(expected)}


@pytest.mark.parametrize("did", list(ED25519_VECTORS), ids=_vector_id)
def test_ed25519_vector_seed_is_the_secret_key(did):
    vector = ED25519_VECTORS[did]
    seed = bytes.fromhex(vector["seed"])
    key = KeyPair.from_multibase(did[len("did:key:"):], secret_multibase("Ed25519", seed))
    assert key.has_secret and key.secret_key_multibase == secret_multibase("Ed25519", seed)
    assert key.to_jwk(private=True)["d"] == base64url_encode(seed)
    private_jwk = vector["verificationKeyPair"].get("privateKeyJwk")
    if private_jwk is not None:
        assert key.to_jwk(private=True) == private_jwk
        assert KeyPair.from_jwk(private_jwk).secret_key_multibase == key.secret_key_multibase
    key.verify(key.sign(b"did:key vector"), b"did:key vector")


SUPPORTED_NIST = {did: v for did, v in NIST_VECTORS.items() if not did.startswith("did:key:z2J9")}  # not P-521


@pytest.mark.parametrize("did", list(SUPPORTED_NIST), ids=_vector_id)
def test_nist_vector_did_to_key_and_jwk(did):
    vm = NIST_VECTORS[did]["verificationMethod"]
    key = KeyPair.from_multibase(did[len("did:key:"):])
    assert key.did == did
    assert key.verification_method == NIST_VECTORS[did]["didDocument"]["verificationMethod"][0]["id"]
    if "publicKeyJwk" in vm:
        jwk = vm["publicKeyJwk"]
        assert key.key_type == jwk["crv"]
        assert key.to_jwk() == jwk
        assert KeyPair.from_jwk(jwk).did == did
        private = KeyPair.from_jwk(vm["privateKeyJwk"])
        assert private.has_secret and private.did == did
        assert private.to_jwk(private=True) == vm["privateKeyJwk"]
        uncompressed = b"\x04" + base64url_decode(jwk["x"]) + base64url_decode(jwk["y"])
        assert KeyPair.from_public_key_bytes(jwk["crv"], uncompressed).did == did
    else:  # P256Key2021: publicKeyBase58 is the compressed point, privateKeyBase58 the raw scalar
        assert vm["type"] == "P256Key2021"
        assert key.key_type == "P-256"
        assert key.public_key_bytes == base58btc_decode(vm["publicKeyBase58"])
        secret = base58btc_decode(vm["privateKeyBase58"])
        private = KeyPair.from_multibase(key.public_key_multibase, secret_multibase("P-256", secret))
        assert private.to_jwk(private=True)["d"] == base64url_encode(secret)
    expected_alg = {"P-256": "ES256", "P-384": "ES384"}[key.key_type]
    assert key.algorithm == expected_alg
    private.verify(private.sign(b"vector"), b"vector")


def test_nist_p521_vectors_are_unsupported():
    p521 = [did for did in NIST_VECTORS if did.startswith("did:key:z2J9")]
    assert len(p521) == 2
    for did in p521:
        with pytest.raises(KeyMaterialError, match="p521-pub"):
            KeyPair.from_multibase(did[len("did:key:"):])
        with pytest.raises(UnsupportedError, match="P-521"):
            KeyPair.from_jwk(NIST_VECTORS[did]["verificationMethod"]["publicKeyJwk"])


@pytest.mark.parametrize("name,codec_name", [("secp256k1", "secp256k1-pub"), ("bls12381", "bls12_381-g"), ("rsa", "rsa-pub")])
def test_other_did_key_vectors_are_refused_by_multicodec(name, codec_name):
    for did in load_vector(f"did-key/{name}.json"):
        with pytest.raises(KeyMaterialError, match=codec_name):
            KeyPair.from_multibase(did[len("did:key:"):])


def test_x25519_keys_are_not_signing_keys():
    for did in load_vector("did-key/x25519.json")["didDocument"]:
        with pytest.raises(KeyMaterialError, match="x25519-pub"):
            KeyPair.from_multibase(did[len("did:key:"):])


# -- vectors: w3c/vc-di-eddsa keyPair.json --------------------------------------------------------


def test_di_eddsa_key_pair_vector():
    pair = load_vector("di-eddsa/keyPair.json")
    key = KeyPair.from_multibase(pair["publicKeyMultibase"], pair["privateKeyMultibase"])
    assert key.key_type == "Ed25519" and key.has_secret
    assert key.public_key_multibase == pair["publicKeyMultibase"]
    assert key.secret_key_multibase == pair["privateKeyMultibase"]
    assert pair["privateKeyMultibase"].startswith("z3u2")  # 0x1300 ed25519-priv
    key.verify(key.sign(b"abc"), b"abc")
    public_only = KeyPair.from_multibase(pair["publicKeyMultibase"])
    public_only.verify(key.sign(b"abc"), b"abc")
    # the secret really is tied to the public key: pair it with another public key and it is refused
    other = KeyPair.generate("Ed25519")
    with pytest.raises(KeyMaterialError, match="does not match"):
        KeyPair.from_multibase(other.public_key_multibase, pair["privateKeyMultibase"])


# -- generation, properties, export -------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_generate(key_type):
    key = KeyPair.generate(key_type)
    assert key.key_type == key_type and key.has_secret
    assert key.did == "did:key:" + key.public_key_multibase
    assert key.verification_method == key.did + "#" + key.public_key_multibase
    prefix = {"Ed25519": "z6Mk", "P-256": "zDna", "P-384": "z82L"}[key_type]
    assert key.public_key_multibase.startswith(prefix)
    assert len(key.public_key_bytes) == {"Ed25519": 32, "P-256": 33, "P-384": 49}[key_type]
    assert KeyPair.generate().key_type == "Ed25519"


@pytest.mark.parametrize("key_type", ["RSA", "secp256k1", "P-521", "ed25519", "X25519", "", None, 1])
def test_generate_refuses_unknown_types(key_type):
    with pytest.raises(UnsupportedError):
        KeyPair.generate(key_type)
    with pytest.raises(UnsupportedError):
        KeyPair.from_public_key_bytes(key_type, bytes(32))


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_repr_and_str_never_show_the_secret(key_type):
    key = KeyPair.generate(key_type)
    secret_jwk = key.to_jwk(private=True)
    text = repr(key) + str(key) + f"{key}"
    assert key.did in text and "has_secret=True" in text
    assert key.secret_key_multibase not in text
    assert secret_jwk["d"] not in text
    secret_hex = base64url_decode(secret_jwk["d"]).hex()
    assert secret_hex not in text.lower()


def test_key_pair_is_immutable_and_not_picklable():
    key = KeyPair.generate()
    with pytest.raises(AttributeError):
        key.key_type = "P-256"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        key._secret = None
    with pytest.raises(AttributeError):
        del key._public
    assert copy.copy(key) is key and copy.deepcopy(key) is key
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(key)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_public_only_key_cannot_sign_or_export_secret(key_type):
    key = KeyPair.from_multibase(KeyPair.generate(key_type).public_key_multibase)
    assert not key.has_secret and key.secret_key_multibase is None
    with pytest.raises(KeyMaterialError):
        key.sign(b"data")
    with pytest.raises(KeyMaterialError):
        key.to_jwk(private=True)
    assert "d" not in key.to_jwk()


def test_to_multikey():
    key = KeyPair.generate()
    assert key.to_multikey() == {
        "id": key.verification_method,
        "type": "Multikey",
        "controller": key.did,
        "publicKeyMultibase": key.public_key_multibase,
    }
    vm = key.to_multikey(controller="did:web:example.com")
    assert vm["controller"] == "did:web:example.com"
    assert vm["id"] == "did:web:example.com#" + key.public_key_multibase
    vm = key.to_multikey(controller="did:web:example.com", id="did:web:example.com#key-1")
    assert vm["id"] == "did:web:example.com#key-1"
    assert "secretKeyMultibase" not in vm


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
def test_ec_public_key_bytes_compressed_and_uncompressed(key_type):
    key = KeyPair.generate(key_type)
    jwk = key.to_jwk()
    uncompressed = b"\x04" + base64url_decode(jwk["x"]) + base64url_decode(jwk["y"])
    assert KeyPair.from_public_key_bytes(key_type, uncompressed).did == key.did
    assert KeyPair.from_public_key_bytes(key_type, key.public_key_bytes).did == key.did
    assert KeyPair.from_public_key_bytes(key_type, bytearray(key.public_key_bytes)).did == key.did


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
def test_curve_order_constants(key_type):
    # An independent check of the n used to range-check r and s: [n-1]G = -G.
    n, curve = ORDER[key_type], CURVE[key_type]
    g = ec.derive_private_key(1, curve).public_key().public_numbers()
    minus_g = ec.derive_private_key(n - 1, curve).public_key().public_numbers()
    assert minus_g.x == g.x and minus_g.y == FIELD_PRIME[key_type] - g.y
    assert keys_module._SPECS[key_type].order == n


# -- hypothesis: round trips and signatures ----------------------------------------------------


def secrets_for(key_type: str):
    if key_type == "Ed25519":
        return st.binary(min_size=32, max_size=32)
    return st.integers(1, ORDER[key_type] - 1).map(lambda d: d.to_bytes(SIZE[key_type], "big"))


def key_from_secret(key_type: str, secret: bytes) -> KeyPair:
    if key_type == "Ed25519":
        jwk = {"kty": "OKP", "crv": "Ed25519", "d": base64url_encode(secret)}
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        public = Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        jwk["x"] = base64url_encode(public)
    else:
        numbers = ec.derive_private_key(int.from_bytes(secret, "big"), CURVE[key_type]).public_key().public_numbers()
        size = SIZE[key_type]
        jwk = {
            "kty": "EC",
            "crv": key_type,
            "x": base64url_encode(numbers.x.to_bytes(size, "big")),
            "y": base64url_encode(numbers.y.to_bytes(size, "big")),
            "d": base64url_encode(secret),
        }
    return KeyPair.from_jwk(jwk)


keys_strategy = st.sampled_from(KEY_TYPES).flatmap(lambda t: secrets_for(t).map(lambda s: key_from_secret(t, s)))


@SETTINGS
@given(keys_strategy)
def test_jwk_round_trip(key):
    public = KeyPair.from_jwk(key.to_jwk())
    assert not public.has_secret and public.did == key.did
    private = KeyPair.from_jwk(key.to_jwk(private=True))
    assert private.has_secret and private.secret_key_multibase == key.secret_key_multibase
    assert private.to_jwk(private=True) == key.to_jwk(private=True)


@SETTINGS
@given(keys_strategy)
def test_multikey_round_trip(key):
    public = KeyPair.from_multibase(key.public_key_multibase)
    assert public.did == key.did and public.key_type == key.key_type
    private = KeyPair.from_multibase(key.public_key_multibase, key.secret_key_multibase)
    assert private.secret_key_multibase == key.secret_key_multibase
    assert private.to_jwk(private=True) == key.to_jwk(private=True)
    secret = base58btc_decode(key.secret_key_multibase[1:])
    assert len(secret) == {"Ed25519": 34, "P-256": 34, "P-384": 50}[key.key_type]  # 2-byte varint + key
    vm = key.to_multikey()
    assert KeyPair.from_multibase(vm["publicKeyMultibase"]).did == key.did


SIGNERS = {t: KeyPair.generate(t) for t in KEY_TYPES}


@SETTINGS
@given(st.sampled_from(KEY_TYPES), st.binary(max_size=200))
def test_sign_then_verify(key_type, message):
    key = SIGNERS[key_type]
    signature = key.sign(message)
    assert len(signature) == {"Ed25519": 64, "P-256": 64, "P-384": 96}[key_type]
    key.verify(signature, message)
    KeyPair.from_multibase(key.public_key_multibase).verify(signature, message)
    with pytest.raises(InvalidSignature):
        SIGNERS["Ed25519" if key_type != "Ed25519" else "P-256"].verify(signature, message)


@SETTINGS
@given(st.sampled_from(KEY_TYPES), st.binary(max_size=64), st.data())
def test_any_bit_flip_in_signature_fails(key_type, message, data):
    key = SIGNERS[key_type]
    signature = bytearray(key.sign(message))
    bit = data.draw(st.integers(0, len(signature) * 8 - 1))
    signature[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidSignature):
        key.verify(bytes(signature), message)


@SETTINGS
@given(st.sampled_from(KEY_TYPES), st.binary(min_size=1, max_size=64), st.data())
def test_any_bit_flip_in_message_fails(key_type, message, data):
    key = SIGNERS[key_type]
    signature = key.sign(message)
    bit = data.draw(st.integers(0, len(message) * 8 - 1))
    tampered = bytearray(message)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(InvalidSignature):
        key.verify(signature, bytes(tampered))


@SETTINGS
@given(st.sampled_from(KEY_TYPES), st.binary(max_size=120))
def test_arbitrary_signature_bytes_raise_only_invalid_signature(key_type, signature):
    with pytest.raises(InvalidSignature):
        SIGNERS[key_type].verify(signature, b"message")


# -- bad signature values -------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
@pytest.mark.parametrize(
    "how", ["r=0", "s=0", "r=s=0", "r=n", "s=n", "r=n+1", "s=max", "short", "long", "empty", "der", "str", "none"]
)
def test_bad_ecdsa_signatures(key_type, how):
    key, n, size = SIGNERS[key_type], ORDER[key_type], SIZE[key_type]
    message = b"ecdsa message"
    good = key.sign(message)
    r, s = int.from_bytes(good[:size], "big"), int.from_bytes(good[size:], "big")

    def p1363(r_: int, s_: int) -> bytes:
        return r_.to_bytes(size, "big") + s_.to_bytes(size, "big")

    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    bad = {
        "r=0": lambda: p1363(0, s),
        "s=0": lambda: p1363(r, 0),
        "r=s=0": lambda: bytes(2 * size),
        "r=n": lambda: p1363(n, s),
        "s=n": lambda: p1363(r, n),
        "r=n+1": lambda: p1363(n + 1, s),  # r and r mod n must not alias
        "s=max": lambda: good[:size] + b"\xff" * size,
        "short": lambda: good[:-1],
        "long": lambda: good + b"\x00",
        "empty": lambda: b"",
        "der": lambda: encode_dss_signature(r, s),  # DER is not the format here
        "str": lambda: good.hex(),
        "none": lambda: None,
    }[how]()
    with pytest.raises(InvalidSignature):
        key.verify(bad, message)


@pytest.mark.parametrize("how", ["short", "long", "empty", "S+L", "zero", "str"])
def test_bad_ed25519_signatures(how):
    key = SIGNERS["Ed25519"]
    message = b"ed25519 message"
    good = key.sign(message)
    s = int.from_bytes(good[32:], "little")
    bad = {
        "short": good[:-1],
        "long": good + b"\x00",
        "empty": b"",
        # the malleable twin S + L: same equation, refused because S must be < L
        "S+L": good[:32] + (s + ED25519_L).to_bytes(32, "little"),
        "zero": bytes(64),
        "str": good.hex(),
    }[how]
    with pytest.raises(InvalidSignature):
        key.verify(bad, message)


# -- weak Ed25519 public keys -----------------------------------------------------------------------
#
# The Edwards25519 group has order 8L; its 8 points of order dividing 8 and their encodings
# (little-endian y with the sign of x in the top bit):
#   order 1  (0, 1)           identity      0100..00
#   order 2  (0, -1)                        ecff..ff7f        (y = p - 1)
#   order 4  (+-sqrt(-1), 0)                0000..00, 0000..80
#   order 8  four points, y = +-c with c = 0x7a03ac9277fdc74e..fa5305 (two x signs each)
# Non-canonical encodings of the same points: y + p for y < 19 (y = 0 -> edff..7f, y = 1 -> eeff..7f,
# with either sign bit), and x = 0 with the sign bit set (0100..80, ecff..ff).

SMALL_ORDER_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
NON_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000080",  # identity, x = 0 with sign set
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # order 2, x = 0 with sign set
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p     (= 0)
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1 (= 1)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = 2^255 - 1
]
WEAK_KEYS = SMALL_ORDER_CANONICAL + NON_CANONICAL
IDENTITY = bytes.fromhex(SMALL_ORDER_CANONICAL[0])
FORGED_SIGNATURE = IDENTITY + bytes(32)  # R = identity, S = 0


@SETTINGS
@given(st.binary(max_size=100))
def test_the_danger_is_real_cryptography_accepts_the_forged_signature(message):
    # Without our check, `cryptography` takes the identity point as a public key, and the
    # fixed signature R = identity, S = 0 "verifies" for any message whatsoever.
    Ed25519PublicKey.from_public_bytes(IDENTITY).verify(FORGED_SIGNATURE, message)


def test_the_small_order_list_is_right():
    # Independent of the list: decode with the module's arithmetic and check [8]P = identity,
    # that the 8 points are distinct, and that the arithmetic is sound: [L]B = identity for
    # the base point B while [8]B is not.
    decode, add = keys_module._ed25519_decode_point, keys_module._ed25519_add
    points = {decode(bytes.fromhex(h)) for h in SMALL_ORDER_CANONICAL}
    assert len(points) == 8
    for point in points:
        q = point
        for _ in range(3):
            q = add(q, q)
        assert q == (0, 1)

    def times(k, point):
        result = (0, 1)
        while k:
            if k & 1:
                result = add(result, point)
            point = add(point, point)
            k >>= 1
        return result

    base = decode(bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666"))
    assert times(ED25519_L, base) == (0, 1)
    assert times(8, base) != (0, 1)
    # and every point of order 8 times 4 is the order-2 point (0, -1)
    order8 = [decode(bytes.fromhex(h)) for h in SMALL_ORDER_CANONICAL[4:]]
    assert all(times(4, p) == (0, keys_module._P - 1) for p in order8)


@pytest.mark.parametrize("hex_", WEAK_KEYS)
def test_weak_ed25519_keys_are_refused(hex_):
    data = bytes.fromhex(hex_)
    expected = "small order" if hex_ in SMALL_ORDER_CANONICAL else "non-canonical"
    with pytest.raises(KeyMaterialError, match=expected) as e:
        KeyPair.from_public_key_bytes("Ed25519", data)
    assert e.value.code == "INVALID_KEY_ERROR"
    with pytest.raises(KeyMaterialError, match=expected):
        KeyPair.from_multibase(z(0xED, data))
    with pytest.raises(KeyMaterialError, match=expected):
        KeyPair.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(data)})


def test_identity_key_is_refused_everywhere_the_forgery_would_work():
    with pytest.raises(KeyMaterialError, match="small order"):
        KeyPair.from_public_key_bytes("Ed25519", IDENTITY)
    identity_multibase = z(0xED, IDENTITY)
    assert identity_multibase.startswith("z6Mk")  # looks like any other Ed25519 did:key
    with pytest.raises(KeyMaterialError, match="small order"):
        KeyPair.from_multibase(identity_multibase)
    with pytest.raises(KeyMaterialError, match="small order"):
        KeyPair.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(IDENTITY)})
    # (did:key resolution refuses it too: tests/unit/test_did_key.py)


def test_ed25519_bytes_not_on_the_curve_are_refused():
    # Find a y for which x^2 = (y^2 - 1) / (d y^2 + 1) has no square root (Euler's criterion),
    # computed here independently of vc.keys.
    p = 2**255 - 19
    d = -121665 * pow(121666, -1, p) % p
    for y in range(2, 100):
        x2 = (y * y - 1) * pow(d * y * y + 1, -1, p) % p
        if pow(x2, (p - 1) // 2, p) == p - 1:
            break
    data = y.to_bytes(32, "little")
    Ed25519PublicKey.from_public_bytes(data)  # cryptography loads it anyway
    with pytest.raises(KeyMaterialError, match="not encode a point"):
        KeyPair.from_public_key_bytes("Ed25519", data)


@SETTINGS
@given(st.binary(min_size=32, max_size=32))
def test_random_ed25519_bytes_load_or_raise_key_material_error(data):
    try:
        KeyPair.from_public_key_bytes("Ed25519", data)
    except KeyMaterialError:
        pass


# -- Multikey refusals ----------------------------------------------------------------------------


def _ec_point_off_curve(key_type: str) -> bytes:
    """A compressed encoding whose x has no y on the curve, found by asking cryptography."""
    for x in range(1, 200):
        data = b"\x02" + x.to_bytes(SIZE[key_type], "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(CURVE[key_type], data)
        except ValueError:
            return data
    raise AssertionError("no off-curve x found")  # pragma: no cover


ED = KeyPair.generate("Ed25519")
P256 = KeyPair.generate("P-256")
P384 = KeyPair.generate("P-384")


@pytest.mark.parametrize(
    "value,message",
    [
        (z(0x1200, ED.public_key_bytes), r"33 bytes.*, not 32"),  # Ed25519 key under the P-256 multicodec
        (z(0x1201, ED.public_key_bytes), r"49 bytes.*, not 32"),
        (z(0xED, P256.public_key_bytes), "32 bytes, not 33"),  # P-256 key under ed25519-pub
        (z(0x1201, P256.public_key_bytes), r"49 bytes.*, not 33"),
        (z(0x1200, P384.public_key_bytes), r"33 bytes.*, not 49"),
        (z(0xED, ED.public_key_bytes[:31]), "32 bytes, not 31"),
        (z(0xED, ED.public_key_bytes + b"\x00"), "32 bytes, not 33"),
        (z(0xED, b""), "32 bytes, not 0"),
        (z(0xEC, ED.public_key_bytes), "x25519-pub"),
        (z(0xE7, P256.public_key_bytes), "secp256k1-pub"),
        (z(0x1202, bytes(67)), "p521-pub"),
        (z(0x1300, bytes(32)), "ed25519-priv, a secret key"),  # a secret where the public key belongs
        (z(0x99, bytes(32)), r"0x99 \(unknown\)"),
        ("z", "truncated"),
        ("z1", r"0x0 \(unknown\)"),
        ("z0OIl", "base58btc character"),
        ("u" + base64url_encode(multicodec_wrap(0xED, ED.public_key_bytes)), "start with 'z'"),
        (ED.public_key_multibase[1:], "start with 'z'"),
        ("", "start with 'z'"),
        (None, "must be a string"),
        (b"z6Mk", "must be a string"),
    ],
)
def test_multikey_public_refusals(value, message):
    with pytest.raises(KeyMaterialError, match=message):
        KeyPair.from_multibase(value)


def test_malformed_multibase_is_chained_as_the_cause():
    with pytest.raises(KeyMaterialError) as e:
        KeyPair.from_multibase("z6Mk0")
    assert isinstance(e.value.__cause__, InvalidDocument)
    assert "caused by InvalidDocument" in e.value.diagnostics()


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
def test_multikey_ec_point_refusals(key_type):
    key = {"P-256": P256, "P-384": P384}[key_type]
    codec, size = PUBLIC_CODEC[key_type], SIZE[key_type]
    with pytest.raises(KeyMaterialError, match="not a point on the curve"):
        KeyPair.from_multibase(z(codec, _ec_point_off_curve(key_type)))
    with pytest.raises(KeyMaterialError):  # x >= p: not a field element
        KeyPair.from_multibase(z(codec, b"\x02" + FIELD_PRIME[key_type].to_bytes(size, "big")))
    with pytest.raises(KeyMaterialError, match="compressed"):  # wrong prefix byte
        KeyPair.from_multibase(z(codec, b"\x04" + key.public_key_bytes[1:]))
    with pytest.raises(KeyMaterialError, match="compressed"):  # point at infinity
        KeyPair.from_multibase(z(codec, b"\x00" * (size + 1)))
    uncompressed = KeyPair.from_jwk(key.to_jwk())
    jwk = uncompressed.to_jwk()
    full = b"\x04" + base64url_decode(jwk["x"]) + base64url_decode(jwk["y"])
    with pytest.raises(KeyMaterialError, match=r"bytes \(a compressed point\), not"):  # Multikey is compressed only
        KeyPair.from_multibase(z(codec, full))
    hybrid = bytes([6 + (full[-1] & 1)]) + full[1:]  # X9.62 "hybrid" encoding
    with pytest.raises(KeyMaterialError):
        KeyPair.from_public_key_bytes(key_type, hybrid)
    with pytest.raises(KeyMaterialError):
        KeyPair.from_public_key_bytes(key_type, full[:-1])
    with pytest.raises(KeyMaterialError, match="must be bytes"):
        KeyPair.from_public_key_bytes(key_type, key.public_key_multibase)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_multikey_secret_refusals(key_type):
    key, other = KeyPair.generate(key_type), KeyPair.generate(key_type)
    public = key.public_key_multibase
    secret = base58btc_decode(key.secret_key_multibase[1:])[2:]
    with pytest.raises(KeyMaterialError, match="does not match"):
        KeyPair.from_multibase(public, other.secret_key_multibase)
    with pytest.raises(KeyMaterialError, match="secret key is"):
        KeyPair.from_multibase(public, secret_multibase(key_type, secret[:-1]))
    with pytest.raises(KeyMaterialError, match="secret key is"):
        KeyPair.from_multibase(public, secret_multibase(key_type, secret + b"\x00"))
    with pytest.raises(KeyMaterialError, match="expected multicodec"):  # the public key as the secret
        KeyPair.from_multibase(public, public)
    wrong_type = {"Ed25519": "P-256", "P-256": "Ed25519", "P-384": "P-256"}[key_type]
    with pytest.raises(KeyMaterialError, match="expected multicodec"):
        KeyPair.from_multibase(public, KeyPair.generate(wrong_type).secret_key_multibase)
    with pytest.raises(KeyMaterialError, match="base58btc character"):
        KeyPair.from_multibase(public, "z0")
    with pytest.raises(KeyMaterialError):
        KeyPair.from_multibase(public, 12)  # type: ignore[arg-type]


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
@pytest.mark.parametrize("scalar", ["0", "n", "max"])
def test_ec_secret_scalar_out_of_range(key_type, scalar):
    n, size = ORDER[key_type], SIZE[key_type]
    value = {"0": 0, "n": n, "max": 2 ** (8 * size) - 1}[scalar]
    with pytest.raises(KeyMaterialError, match=r"\[1, n-1\]"):
        KeyPair.from_multibase(KeyPair.generate(key_type).public_key_multibase, secret_multibase(key_type, value.to_bytes(size, "big")))


# -- JWK refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "oct", "k": "AAAA"},
        {"kty": "OKP", "crv": "X25519", "x": base64url_encode(bytes(32))},
        {"kty": "OKP", "crv": "Ed448", "x": base64url_encode(bytes(57))},
        {"kty": "OKP", "x": base64url_encode(bytes(32))},
        {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "p-256", "x": "AA", "y": "AA"},
    ],
)
def test_jwk_unsupported(jwk):
    with pytest.raises(UnsupportedError):
        KeyPair.from_jwk(jwk)


def _replace(jwk: dict, **changes) -> dict:
    out = dict(jwk)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def _bump(b64: str) -> str:
    data = bytearray(base64url_decode(b64))
    data[-1] ^= 1
    return base64url_encode(bytes(data))


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_jwk_refusals(key_type):
    key, other = KeyPair.generate(key_type), KeyPair.generate(key_type)
    jwk, private = key.to_jwk(), key.to_jwk(private=True)
    size = SIZE[key_type]
    bad = [
        (_replace(jwk, x=None), "'x'"),
        (_replace(jwk, x=12), "'x'"),
        (_replace(jwk, x=jwk["x"] + "="), "base64url"),
        (_replace(jwk, x=base64url_encode(bytes(size - 1))), f"{size} bytes"),
        (_replace(jwk, x=base64url_encode(bytes(size + 1))), f"{size} bytes"),
        (_replace(private, d=other.to_jwk(private=True)["d"]), "does not match"),
        (_replace(private, d=base64url_encode(bytes(size - 1))), f"{size} bytes"),
        (_replace(private, d=private["d"].replace(private["d"][0], "+" if private["d"][0] != "+" else "/")), "base64url"),
        (_replace(jwk, alg="ES384" if key_type != "P-384" else "ES256"), "'alg'"),
        (_replace(jwk, alg="RS256"), "'alg'"),
        (_replace(jwk, kty=None), "'kty'"),
    ]
    if key_type != "Ed25519":
        bad += [
            (_replace(jwk, y=None), "'y'"),
            (_replace(jwk, y=_bump(jwk["y"])), "not a point on the curve"),
            (_replace(jwk, x=base64url_encode(FIELD_PRIME[key_type].to_bytes(size, "big"))), key_type),
        ]
    else:
        bad += [(_replace(jwk, x=base64url_encode(IDENTITY)), "small order")]
    for candidate, message in bad:
        with pytest.raises(KeyMaterialError, match=message):
            KeyPair.from_jwk(candidate)


@pytest.mark.parametrize("value", [None, "{}", [], 3])
def test_jwk_must_be_an_object(value):
    with pytest.raises(KeyMaterialError, match="JSON object"):
        KeyPair.from_jwk(value)


@pytest.mark.parametrize("key_type,algs", [("Ed25519", ["EdDSA", "Ed25519"]), ("P-256", ["ES256"]), ("P-384", ["ES384"])])
def test_jwk_matching_alg_is_accepted(key_type, algs):
    key = KeyPair.generate(key_type)
    for alg in algs:
        assert KeyPair.from_jwk({**key.to_jwk(), "alg": alg}).did == key.did
