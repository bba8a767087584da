"""The Bitstring Status List bitstring (vc.status): bit order, encodedList, caps and parsing."""

from __future__ import annotations

import base64
import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradevc.vc.errors import InvalidDocument
from tradevc.vc.status import (
    MAX_LENGTH,
    MAX_STATUS_SIZE,
    MIN_LENGTH,
    BitstringStatusList,
    status_entry_index,
    status_entry_size,
)

SETTINGS = settings(max_examples=40, deadline=None)

# Example 3 of the W3C Recommendation (https://www.w3.org/TR/vc-bitstring-status-list/,
# "Example BitstringStatusListCredential", list https://example.com/credentials/status/3): a
# revocation list that Example 1's entry {"statusListIndex": "94567"} points into.
W3C_EXAMPLE_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def raw_bits(encoded: str) -> bytes:
    """Decode an encodedList independently of vc.status: strip 'u', base64url, gunzip."""
    assert encoded[0] == "u"
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def encode_raw(data: bytes) -> str:
    """Build an encodedList from raw (already compressed or not) bytes, independently."""
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def gzip_zeros(count: int, chunk: int = 1 << 20) -> bytes:
    """GZIP of `count` zero bytes, compressed chunk by chunk (never `count` bytes in memory)."""
    compressor = zlib.compressobj(level=9, wbits=31)
    zeros = bytes(chunk)
    parts = []
    remaining = count
    while remaining:
        n = min(chunk, remaining)
        parts.append(compressor.compress(zeros if n == chunk else bytes(n)))
        remaining -= n
    parts.append(compressor.flush())
    return b"".join(parts)


def assert_code(excinfo: pytest.ExceptionInfo, code: str) -> None:
    assert isinstance(excinfo.value, InvalidDocument)
    assert excinfo.value.code == code, excinfo.value.message
    assert excinfo.value.message


def entries(status_size: int) -> st.SearchStrategy[dict[int, int]]:
    return st.dictionaries(
        st.integers(0, MIN_LENGTH - 1), st.integers(0, (1 << status_size) - 1), max_size=60
    )


# -- round trips (hypothesis) ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 8])
@SETTINGS
@given(data=st.data())
def test_round_trip(size: int, data: st.DataObject) -> None:
    values = data.draw(entries(size))
    status_list = BitstringStatusList(status_size=size)
    for index, value in values.items():
        status_list.set(index, value)
    for index, value in values.items():
        assert status_list.get(index) == value
    decoded = BitstringStatusList.decode(status_list.encode(), status_size=size)
    assert decoded == status_list
    assert decoded.length == MIN_LENGTH and decoded.status_size == size
    for index, value in values.items():
        assert decoded.get(index) == value
    assert decoded.count_set() == sum(1 for v in values.values() if v)
    assert decoded.encode() == status_list.encode()  # deterministic


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
@SETTINGS
@given(data=st.data())
def test_set_changes_only_its_entry(size: int, data: st.DataObject) -> None:
    status_list = BitstringStatusList(status_size=size)
    # Fill the neighbourhood with a background pattern, then write one entry in its middle.
    index = data.draw(st.integers(2, MIN_LENGTH - 3))
    background = data.draw(st.lists(st.integers(0, (1 << size) - 1), min_size=5, max_size=5))
    for offset, value in zip(range(-2, 3), background):
        status_list.set(index + offset, value)
    before = status_list.to_bytes()
    new_value = data.draw(st.integers(0, (1 << size) - 1))
    status_list.set(index, new_value)
    assert status_list.get(index) == new_value
    for offset, value in zip(range(-2, 3), background):
        if offset:
            assert status_list.get(index + offset) == value
    # Only the bits [index*size, (index+1)*size) may differ.
    after = status_list.to_bytes()
    differing = int.from_bytes(before, "big") ^ int.from_bytes(after, "big")
    total = len(before) * 8
    entry_mask = ((1 << size) - 1) << (total - (index + 1) * size)
    assert differing & ~entry_mask == 0


@pytest.mark.parametrize("size", [1, 2, 4, 6, 8])
def test_count_set(size: int) -> None:
    status_list = BitstringStatusList(status_size=size)
    assert status_list.count_set() == 0
    top = (1 << size) - 1
    for i in (0, 1, 7, 1000, MIN_LENGTH - 1):
        status_list.set(i, 1 if i % 2 else top)
    assert status_list.count_set() == 5
    status_list.set(7, 0)
    assert status_list.count_set() == 4


# -- bit order ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "index", "value", "first_bytes"),
    [
        (1, 0, 1, b"\x80\x00"),
        (1, 7, 1, b"\x01\x00"),
        (1, 8, 1, b"\x00\x80"),
        (2, 0, 1, b"\x40\x00"),
        (2, 0, 2, b"\x80\x00"),
        (2, 3, 3, b"\x03\x00"),
        (3, 2, 0b101, b"\x02\x80"),  # bits 6..8 = 101: spans the first two bytes
        (8, 1, 0xA5, b"\x00\xa5"),
    ],
)
def test_bit_order(size: int, index: int, value: int, first_bytes: bytes) -> None:
    status_list = BitstringStatusList(status_size=size)
    status_list.set(index, value)
    bits = raw_bits(status_list.encode())
    assert len(bits) == MIN_LENGTH * size // 8
    assert bits[:2] == first_bytes
    assert not any(bits[2:])


def test_decode_reads_spec_bit_order() -> None:
    data = bytearray(MIN_LENGTH // 8)
    data[0] = 0x80
    data[-1] = 0x01
    status_list = BitstringStatusList.decode(encode_raw(gzip.compress(bytes(data))))
    assert status_list.get(0) == 1 and status_list.get(1) == 0
    assert status_list.get(MIN_LENGTH - 1) == 1 and status_list.get(MIN_LENGTH - 8) == 0
    assert status_list.count_set() == 2


def test_w3c_example_list() -> None:
    status_list = BitstringStatusList.decode(W3C_EXAMPLE_ENCODED_LIST)
    assert status_list.length == MIN_LENGTH and status_list.status_size == 1
    assert status_list.get(94567) == 0  # Example 1's revocation entry: not revoked
    assert status_list.count_set() == 0
    assert raw_bits(W3C_EXAMPLE_ENCODED_LIST) == bytes(MIN_LENGTH // 8)
    assert status_list == BitstringStatusList()


def test_decoded_length_from_bytes() -> None:
    # 16 KiB + 1 byte of bits: status size 1 gives 131080 entries; size 3 leaves spare bits.
    data = bytes(MIN_LENGTH * 3 // 8 + 1)
    assert BitstringStatusList.decode(encode_raw(gzip.compress(bytes(MIN_LENGTH // 8 + 1)))).length == MIN_LENGTH + 8
    three = BitstringStatusList.decode(encode_raw(gzip.compress(data)), status_size=3)
    assert three.length == len(data) * 8 // 3
    assert raw_bits(three.encode()) == data  # spare bits kept


def test_equality() -> None:
    a, b = BitstringStatusList(), BitstringStatusList()
    assert a == b
    a.set(5, 1)
    assert a != b
    b.set(5, 1)
    assert a == b
    assert BitstringStatusList(MIN_LENGTH + 8) != a
    assert BitstringStatusList(status_size=2) != BitstringStatusList(MIN_LENGTH * 2)  # same bytes
    assert a != "not a list"
    with pytest.raises(TypeError):
        hash(a)


# -- construction ---------------------------------------------------------------------------------


def test_construction_limits() -> None:
    assert BitstringStatusList().length == MIN_LENGTH
    assert BitstringStatusList(MAX_LENGTH).length == MAX_LENGTH
    assert BitstringStatusList(MAX_LENGTH // 8, status_size=8).length == MAX_LENGTH // 8
    with pytest.raises(ValueError):
        BitstringStatusList(MIN_LENGTH - 1)
    with pytest.raises(ValueError):
        BitstringStatusList(0)
    with pytest.raises(ValueError):
        BitstringStatusList(MAX_LENGTH + 1)
    with pytest.raises(ValueError):
        BitstringStatusList(MAX_LENGTH // 2 + 1, status_size=2)
    for size in (0, -1, MAX_STATUS_SIZE + 1):
        with pytest.raises(ValueError):
            BitstringStatusList(status_size=size)
    with pytest.raises(TypeError):
        BitstringStatusList(status_size=True)
    with pytest.raises(TypeError):
        BitstringStatusList(float(MIN_LENGTH))  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 2, 8])
def test_index_range(size: int) -> None:
    status_list = BitstringStatusList(status_size=size)
    for index in (-1, status_list.length, 10**30):
        with pytest.raises(InvalidDocument) as excinfo:
            status_list.get(index)
        assert_code(excinfo, "RANGE_ERROR")
        assert str(index) in excinfo.value.message and str(status_list.length) in excinfo.value.message
        with pytest.raises(InvalidDocument) as excinfo:
            status_list.set(index, 1)
        assert_code(excinfo, "RANGE_ERROR")
    status_list.set(status_list.length - 1, 1)
    assert status_list.get(status_list.length - 1) == 1


def test_value_range() -> None:
    one, two = BitstringStatusList(), BitstringStatusList(status_size=2)
    for status_list, bad in ((one, 2), (one, -1), (two, 4)):
        with pytest.raises(ValueError):
            status_list.set(0, bad)
    with pytest.raises(TypeError):
        one.set(0, True)
    with pytest.raises(TypeError):
        one.get("0")  # type: ignore[arg-type]
    assert one.count_set() == 0 and two.count_set() == 0


# -- decode: malformed input ----------------------------------------------------------------------


GOOD_GZIP = gzip.compress(bytes(MIN_LENGTH // 8))


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "u",
        encode_raw(GOOD_GZIP)[1:],  # no prefix at all
        "z" + encode_raw(GOOD_GZIP)[1:],  # another multibase prefix
        "U" + encode_raw(GOOD_GZIP)[1:],
        encode_raw(GOOD_GZIP) + "=",  # padding
        "u" + base64.urlsafe_b64encode(GOOD_GZIP).decode().replace("-", "+"),  # not url-safe
        "u!!!!",
        encode_raw(GOOD_GZIP) + "A",  # length 1 mod 4 or trailing junk bits
        encode_raw(bytes(MIN_LENGTH // 8)),  # not compressed
        encode_raw(zlib.compress(bytes(MIN_LENGTH // 8))),  # zlib, not gzip
        encode_raw(GOOD_GZIP[:-1]),  # truncated trailer
        encode_raw(GOOD_GZIP[: len(GOOD_GZIP) // 2]),  # truncated deflate stream
        encode_raw(GOOD_GZIP[:5]),  # truncated header
        encode_raw(GOOD_GZIP[:-8] + b"\x00\x00\x00\x00" + GOOD_GZIP[-4:]),  # bad CRC
        encode_raw(GOOD_GZIP + b"\x00"),  # trailing garbage
        encode_raw(GOOD_GZIP + GOOD_GZIP),  # a second member
    ],
)
def test_decode_malformed(encoded: str) -> None:
    with pytest.raises(InvalidDocument) as excinfo:
        BitstringStatusList.decode(encoded)
    assert_code(excinfo, "MALFORMED_VALUE_ERROR")


@pytest.mark.parametrize("encoded", [None, 12, b"uH4sI", ["u"]])
def test_decode_not_a_string(encoded: object) -> None:
    with pytest.raises(InvalidDocument) as excinfo:
        BitstringStatusList.decode(encoded)  # type: ignore[arg-type]
    assert_code(excinfo, "MALFORMED_VALUE_ERROR")


def test_decode_status_size_from_document() -> None:
    for bad in (0, -1, True, 1.0, "1"):
        with pytest.raises(InvalidDocument) as excinfo:
            BitstringStatusList.decode(W3C_EXAMPLE_ENCODED_LIST, status_size=bad)  # type: ignore[arg-type]
        assert_code(excinfo, "MALFORMED_VALUE_ERROR")
    with pytest.raises(InvalidDocument) as excinfo:
        BitstringStatusList.decode(W3C_EXAMPLE_ENCODED_LIST, status_size=MAX_STATUS_SIZE + 1)
    assert_code(excinfo, "UNSUPPORTED_ERROR")


# -- decode: lengths and the bomb cap -------------------------------------------------------------


@pytest.mark.parametrize(("size", "count"), [(1, MIN_LENGTH // 8 - 1), (1, 0), (1, 1), (2, MIN_LENGTH // 8)])
def test_decode_too_short(size: int, count: int) -> None:
    # For status size 2, 16 KiB is only 65,536 entries: the minimum counts entries, not bits.
    with pytest.raises(InvalidDocument) as excinfo:
        BitstringStatusList.decode(encode_raw(gzip.compress(bytes(count))), status_size=size)
    assert_code(excinfo, "STATUS_LIST_LENGTH_ERROR")


def test_decode_at_the_ceiling() -> None:
    at_cap = encode_raw(gzip_zeros(MAX_LENGTH // 8))
    assert BitstringStatusList.decode(at_cap).length == MAX_LENGTH
    with pytest.raises(InvalidDocument) as excinfo:
        BitstringStatusList.decode(encode_raw(gzip_zeros(MAX_LENGTH // 8 + 1)))
    assert_code(excinfo, "STATUS_LIST_LENGTH_ERROR")


def test_decode_gzip_bomb() -> None:
    bomb = gzip_zeros(64 << 20)  # 64 MiB of zeros, ~64 KB compressed
    assert len(bomb) < 1 << 17
    with pytest.raises(InvalidDocument) as excinfo:
        BitstringStatusList.decode(encode_raw(bomb))
    assert_code(excinfo, "STATUS_LIST_LENGTH_ERROR")


def test_encode_is_deterministic_gzip() -> None:
    status_list = BitstringStatusList()
    status_list.set(42, 1)
    first = status_list.encode()
    assert first == status_list.encode() == BitstringStatusList.decode(first).encode()
    header = base64.urlsafe_b64decode(first[1:] + "=" * (-len(first[1:]) % 4))[:10]
    assert header[:3] == b"\x1f\x8b\x08" and header[4:8] == b"\x00\x00\x00\x00"  # gzip, mtime 0
    assert "=" not in first and "+" not in first and "/" not in first


# -- statusListIndex / statusSize -----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), ("0", 0), ("94567", 94567), ("99999999999999999999", 10**20 - 1)])
def test_status_entry_index_ok(raw: str, expected: int) -> None:
    assert status_entry_index({"type": "BitstringStatusListEntry", "statusListIndex": raw}) == expected


@pytest.mark.parametrize(
    "raw",
    ["-1", "1.5", "", " 3", "3 ", "3\n", "abc", "+3", "012", "00", "1e3", "0x10", "١٢", "３", "1_000",
     12, 0, True, None, 1.0, ["1"]],
)
def test_status_entry_index_rejected(raw: object) -> None:
    with pytest.raises(InvalidDocument) as excinfo:
        status_entry_index({"statusListIndex": raw})
    assert_code(excinfo, "MALFORMED_VALUE_ERROR")


def test_status_entry_index_shape() -> None:
    for entry in ({}, {"statusListindex": "1"}, ["statusListIndex", "1"], "12", None):
        with pytest.raises(InvalidDocument) as excinfo:
            status_entry_index(entry)  # type: ignore[arg-type]
        assert_code(excinfo, "MALFORMED_VALUE_ERROR")
    with pytest.raises(InvalidDocument) as excinfo:
        status_entry_index({"statusListIndex": "1" * 21})
    assert_code(excinfo, "RANGE_ERROR")
    with pytest.raises(InvalidDocument) as excinfo:
        status_entry_index({"statusListIndex": "9" * 100_000})  # never converted to int
    assert_code(excinfo, "RANGE_ERROR")


def test_status_entry_size() -> None:
    assert status_entry_size({}) == 1
    assert status_entry_size({"statusSize": 2}) == 2
    assert status_entry_size({"statusSize": MAX_STATUS_SIZE}) == MAX_STATUS_SIZE
    for bad in (0, -1, True, 2.0, "2", None):
        with pytest.raises(InvalidDocument) as excinfo:
            status_entry_size({"statusSize": bad})
        assert_code(excinfo, "MALFORMED_VALUE_ERROR")
    with pytest.raises(InvalidDocument) as excinfo:
        status_entry_size({"statusSize": MAX_STATUS_SIZE + 1})
    assert_code(excinfo, "UNSUPPORTED_ERROR")
