"""base58btc, base64url, multibase and unsigned-varint multicodec prefixes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradevc.vc.errors import InvalidDocument
from tradevc.vc.multibase import (
    BASE58_ALPHABET,
    base58btc_decode,
    base58btc_encode,
    base64url_decode,
    base64url_encode,
    multibase_decode,
    multibase_encode,
    multicodec_unwrap,
    multicodec_wrap,
    varint_decode,
    varint_encode,
)

SETTINGS = settings(max_examples=200, deadline=None)

# Bytes with a run of leading zero bytes, the edge case of base58.
leading_zero_bytes = st.tuples(st.integers(0, 6), st.binary(max_size=80)).map(lambda t: b"\x00" * t[0] + t[1])


def assert_malformed(excinfo: pytest.ExceptionInfo) -> None:
    assert excinfo.value.code == "MALFORMED_VALUE_ERROR"
    assert excinfo.value.message


# -- base58btc ------------------------------------------------------------------------------------

# Known answers: the multiformats multibase spec examples ("yes mani !") and Bitcoin's usual ones.
BASE58_KNOWN = [
    (b"", ""),
    (b"\x00", "1"),
    (b"\x00\x00\x00", "111"),
    (b"\x01", "2"),
    (b"\x39", "z"),
    (b"\x3a", "21"),
    (b"hello world", "StV1DL6CwTryKyV"),
    (b"yes mani !", "7paNL19xttacUY"),
    (b"\x00yes mani !", "17paNL19xttacUY"),
    (b"\x00\x00yes mani !", "117paNL19xttacUY"),
    (b"\x00\x00\x28\x7f\xb4\xcd", "11233QC4"),
]


@pytest.mark.parametrize("data,text", BASE58_KNOWN)
def test_base58btc_known_answers(data, text):
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


def test_base58btc_alphabet_is_bitcoins():
    assert len(BASE58_ALPHABET) == 58 == len(set(BASE58_ALPHABET))
    assert not set("0OIl") & set(BASE58_ALPHABET)


@SETTINGS
@given(leading_zero_bytes)
def test_base58btc_round_trip(data):
    text = base58btc_encode(data)
    assert base58btc_decode(text) == data
    # one leading "1" per leading zero byte, and no more
    zeros = len(data) - len(data.lstrip(b"\x00"))
    assert len(text) - len(text.lstrip("1")) == zeros


@SETTINGS
@given(st.text(alphabet=BASE58_ALPHABET, max_size=60))
def test_base58btc_every_alphabet_string_decodes_and_re_encodes(text):
    assert base58btc_encode(base58btc_decode(text)) == text


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc0", "3+4", "ab cd", "z\n", "caf\u00e9", "\u0661"])
def test_base58btc_refuses_characters_outside_the_alphabet(text):
    with pytest.raises(InvalidDocument, match="base58btc character") as e:
        base58btc_decode(text)
    assert_malformed(e)


@pytest.mark.parametrize("value", [None, 12, b"abc"])
def test_base58btc_refuses_non_strings(value):
    with pytest.raises(InvalidDocument):
        base58btc_decode(value)


@SETTINGS
@given(st.text(max_size=40))
def test_base58btc_decode_raises_only_invalid_document(text):
    try:
        base58btc_decode(text)
    except InvalidDocument:
        pass


# -- base64url ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,text",
    [(b"", ""), (b"f", "Zg"), (b"fo", "Zm8"), (b"foo", "Zm9v"), (b"\xfb\xff", "-_8"), (b"yes mani !", "eWVzIG1hbmkgIQ")],
)
def test_base64url_known_answers(data, text):
    assert base64url_encode(data) == text
    assert base64url_decode(text) == data


@SETTINGS
@given(st.binary(max_size=100))
def test_base64url_round_trip(data):
    text = base64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert base64url_decode(text) == data


@pytest.mark.parametrize(
    "text,why",
    [
        ("Zg==", "padding"),
        ("Zm9v+w", "character"),
        ("Zm9v/w", "character"),
        ("Zm 9v", "character"),
        ("Zm9v\n", "character"),
        ("A", "length"),
        ("Zm9vY", "length"),
        ("Zh", "non-canonical"),  # 'h' leaves non-zero unused bits: Zg and Zh would both mean b"f"
        ("Zm9", "non-canonical"),
    ],
)
def test_base64url_is_strict(text, why):
    with pytest.raises(InvalidDocument) as e:
        base64url_decode(text)
    assert_malformed(e)
    if why == "non-canonical":
        assert "non-canonical" in e.value.message


@SETTINGS
@given(st.text(max_size=40))
def test_base64url_decode_raises_only_invalid_document(text):
    try:
        base64url_decode(text)
    except InvalidDocument:
        pass


# -- multibase ------------------------------------------------------------------------------------


def test_multibase_known_answers():
    # from the multiformats/multibase test vectors (basic.csv): "yes mani !"
    assert multibase_encode(b"yes mani !") == "z7paNL19xttacUY"
    assert multibase_encode(b"yes mani !", "base64url") == "ueWVzIG1hbmkgIQ"
    assert multibase_decode("z7paNL19xttacUY") == b"yes mani !"
    assert multibase_decode("ueWVzIG1hbmkgIQ") == b"yes mani !"
    assert multibase_decode("z") == b"" == multibase_decode("u")


@SETTINGS
@given(leading_zero_bytes, st.sampled_from(["base58btc", "base64url"]))
def test_multibase_round_trip(data, base):
    text = multibase_encode(data, base)
    assert text[0] == {"base58btc": "z", "base64url": "u"}[base]
    assert multibase_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "",  # no prefix at all
        "f796573",  # base16: a real multibase, not supported here
        "mZm9v",  # base64 with padding alphabet
        "Zm9v",  # no prefix: 'Z' is not base58btc's 'z'
        "z0",  # bad base58
        "u+w",  # bad base64url
        "uZg==",
    ],
)
def test_multibase_decode_refuses(text):
    with pytest.raises(InvalidDocument) as e:
        multibase_decode(text)
    assert_malformed(e)


def test_multibase_decode_refuses_non_strings():
    with pytest.raises(InvalidDocument, match="string"):
        multibase_decode(b"z7paNL19xttacUY")


def test_multibase_encode_refuses_unknown_base():
    with pytest.raises(InvalidDocument, match="base32"):
        multibase_encode(b"x", "base32")  # type: ignore[arg-type]


# -- unsigned varint / multicodec ----------------------------------------------------------------

MULTICODECS = [
    (0xED, "ed01"),  # ed25519-pub
    (0x1200, "8024"),  # p256-pub
    (0x1201, "8124"),  # p384-pub
    (0x1300, "8026"),  # ed25519-priv
    (0x1306, "8626"),  # p256-priv
    (0x1307, "8726"),  # p384-priv
    (0, "00"),
    (1, "01"),
    (127, "7f"),
    (128, "8001"),
    (255, "ff01"),
    (300, "ac02"),
    (16384, "808001"),
    (2**63 - 1, "ffffffffffffffff7f"),
]


@pytest.mark.parametrize("value,hex_", MULTICODECS)
def test_varint_known_answers(value, hex_):
    assert varint_encode(value) == bytes.fromhex(hex_)
    assert varint_decode(bytes.fromhex(hex_)) == (value, len(hex_) // 2)


@SETTINGS
@given(st.integers(0, 2**63 - 1), st.binary(max_size=10))
def test_varint_round_trip_with_trailing_data(value, rest):
    encoded = varint_encode(value)
    assert varint_decode(encoded + rest) == (value, len(encoded))
    assert multicodec_unwrap(multicodec_wrap(value, rest)) == (value, rest)


def test_varint_decode_at_offset():
    assert varint_decode(b"\xff\xed\x01\x05", 1) == (0xED, 3)


@pytest.mark.parametrize(
    "hex_,message",
    [
        ("", "truncated"),
        ("80", "truncated"),
        ("ed", "truncated"),
        ("8000", "minimally"),  # 0 written in two bytes
        ("ed8100", "minimally"),
        ("80808080808080808001", "longer than 9"),
    ],
)
def test_varint_decode_refuses(hex_, message):
    with pytest.raises(InvalidDocument, match=message) as e:
        varint_decode(bytes.fromhex(hex_))
    assert_malformed(e)


@pytest.mark.parametrize("value", [-1, 2**63, 1.5, "1", True])
def test_varint_encode_refuses(value):
    with pytest.raises(InvalidDocument):
        varint_encode(value)


@SETTINGS
@given(st.binary(max_size=12))
def test_multicodec_unwrap_raises_only_invalid_document(data):
    try:
        code, rest = multicodec_unwrap(data)
    except InvalidDocument:
        return
    assert multicodec_wrap(code, rest) == data


def test_base58btc_long_values_round_trip_quickly():
    import os
    import time

    data = b"\x00\x00" + os.urandom(20_000)
    start = time.perf_counter()
    assert base58btc_decode(base58btc_encode(data)) == data
    decoded = base58btc_decode("2" * 100_000)  # decoding untrusted input is sub-quadratic
    assert time.perf_counter() - start < 5
    assert len(decoded) > 70_000


def _reference_base64url_decode(text: str) -> bytes | None:
    """The straightforward definition: the alphabet, no padding, canonical trailing bits."""
    import base64
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text else None


def _with_one_character(text_and_change: tuple[str, int, str]) -> str:
    text, position, char = text_and_change
    position %= len(text) + 1
    return text[:position] + char + text[position + 1:]


# Long inputs too: the decoder takes a vectorised path for them.
_long_and_altered = st.tuples(
    st.binary(min_size=40, max_size=600).map(base64url_encode), st.integers(min_value=0),
    st.sampled_from(list("+/= \n\u00e9.A_-")),
).map(_with_one_character)


@given(st.one_of(st.text(alphabet="AQgwBCDZaz09-_+/= \n\u00e9", max_size=12), st.text(max_size=8),
                 st.binary(max_size=20).map(base64url_encode), st.binary(max_size=2000).map(base64url_encode),
                 _long_and_altered))
def test_base64url_decode_agrees_with_the_reference(text):
    expected = _reference_base64url_decode(text)
    if expected is None:
        with pytest.raises(InvalidDocument):
            base64url_decode(text)
    else:
        assert base64url_decode(text) == expected
