"""The wallet file format: encryption, the header bound as associated data, the passphrase
check, bounded scrypt parameters, refusal of damaged files, the lock, and file modes."""

from __future__ import annotations

import json
import stat
import struct
import time

import pytest

from tradevc.wallet.errors import WalletCorrupted, WalletLocked, WrongPassphrase
from tradevc.wallet.store import KdfParams, WalletFile, new_key, seal, unseal

FAST = KdfParams(n=2**14)


@pytest.fixture(scope="module")
def key():
    return new_key("correct horse", FAST)


def sealed(key, plaintext=b'{"hello": "world"}', kind="wallet"):
    return seal(plaintext, key, kind=kind)


def header_of(data: bytes) -> tuple[int, dict]:
    length = struct.unpack_from(">I", data, 5)[0]
    return 9 + length, json.loads(data[9 : 9 + length])


def with_header(data: bytes, header: dict) -> bytes:
    end, _ = header_of(data)
    raw = json.dumps(header).encode()
    return data[:4] + data[4:5] + struct.pack(">I", len(raw)) + raw + data[end:]


def test_round_trip_and_the_plaintext_is_not_in_the_file(key):
    data = sealed(key, b'{"secret": "holder key material"}')
    assert b"holder key material" not in data
    opened = unseal(data, "correct horse", kind="wallet")
    assert opened.plaintext == b'{"secret": "holder key material"}'
    _, header = header_of(data)
    assert header["kdf"] == {"name": "scrypt", "n": 2**14, "r": 8, "p": 1, "salt": header["kdf"]["salt"]}
    assert header["cipher"] == "A256GCM"


def test_each_write_uses_a_fresh_nonce(key):
    assert header_of(sealed(key))[1]["nonce"] != header_of(sealed(key))[1]["nonce"]


def test_wrong_passphrase_is_one_clear_error(key):
    with pytest.raises(WrongPassphrase) as caught:
        unseal(sealed(key), "Correct horse", kind="wallet")
    assert caught.value.message == "wrong passphrase"


def test_a_passphrase_is_normalised_to_nfc():
    composed, decomposed = "contrase\u00f1a", "contrasen\u0303a"
    data = seal(b"{}", new_key(composed, FAST), kind="wallet")
    assert unseal(data, decomposed, kind="wallet").plaintext == b"{}"


@pytest.mark.parametrize("position", ["first", "middle", "tag"])
def test_a_changed_content_byte_is_reported_as_damage(key, position):
    data = bytearray(sealed(key, b"x" * 100))
    end, _ = header_of(bytes(data))
    index = {"first": end, "middle": end + 50, "tag": len(data) - 1}[position]
    data[index] ^= 0x01
    with pytest.raises(WalletCorrupted, match="integrity check"):
        unseal(bytes(data), "correct horse", kind="wallet")


def test_the_header_is_bound_as_associated_data(key):
    data = sealed(key)
    _, header = header_of(data)
    header["note"] = "added by someone"
    with pytest.raises(WalletCorrupted, match="integrity check"):
        unseal(with_header(data, header), "correct horse", kind="wallet")


@pytest.mark.parametrize("cut", [0, 3, 8, 20, -1, -16])
def test_a_truncated_file_is_reported_as_such(key, cut):
    data = sealed(key)
    with pytest.raises(WalletCorrupted, match="truncated|empty|damaged|integrity"):
        unseal(data[:cut], "correct horse", kind="wallet")


def test_not_a_wallet_file(key):
    with pytest.raises(WalletCorrupted, match="not a tradevc wallet"):
        unseal(b"PK\x03\x04" + sealed(key)[4:], "correct horse", kind="wallet")
    with pytest.raises(WalletCorrupted, match="version 9"):
        unseal(sealed(key)[:4] + b"\x09" + sealed(key)[5:], "correct horse", kind="wallet")


def test_a_backup_is_not_a_wallet_and_back(key):
    with pytest.raises(WalletCorrupted, match="'backup' file, not a 'wallet'"):
        unseal(sealed(key, kind="backup"), "correct horse", kind="wallet")


@pytest.mark.parametrize(
    "kdf, message",
    [
        ({"n": 2**30}, "power of two from"),  # would need 1 TiB of memory
        ({"n": 2**14 + 1}, "power of two"),
        ({"n": 2**10}, "power of two from"),  # too cheap to be a passphrase KDF
        ({"r": 1000}, "r must be"),
        ({"p": 64}, "and p 1..4"),
        ({"n": "16384"}, "integers"),
    ],
)
def test_scrypt_parameters_are_bounded_on_read(key, kdf, message):
    data = sealed(key)
    _, header = header_of(data)
    header["kdf"].update(kdf)
    started = time.monotonic()
    with pytest.raises(WalletCorrupted, match=message):
        unseal(with_header(data, header), "correct horse", kind="wallet")
    assert time.monotonic() - started < 5  # refused before deriving anything (a loose guard, not a benchmark)


def test_scrypt_parameters_are_bounded_on_write():
    with pytest.raises(ValueError):
        new_key("pw", KdfParams(n=2**12))
    with pytest.raises(ValueError):
        new_key("", FAST)


def test_a_damaged_header_is_reported(key):
    data = sealed(key)
    end, _ = header_of(data)
    broken = data[:9] + b"[" + data[10:end] + data[end:]
    with pytest.raises(WalletCorrupted):
        unseal(broken, "correct horse", kind="wallet")


def test_the_file_is_0600_and_replaced_whole(tmp_path, key):
    file = WalletFile(tmp_path / "home" / "wallet.vcw")
    with file.locked():
        file.write(sealed(key))
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.path.parent.stat().st_mode) == 0o700
    (tmp_path / "home" / ".wallet.vcw.leftover.tmp").write_bytes(b"half a write")
    with file.locked():
        file.write(sealed(key))
    assert sorted(p.name for p in file.path.parent.iterdir()) == ["wallet.vcw", "wallet.vcw.lock"]


def test_a_second_writer_waits_for_the_lock_then_gives_up(tmp_path):
    first = WalletFile(tmp_path / "wallet.vcw")
    second = WalletFile(tmp_path / "wallet.vcw", lock_timeout=0.2)
    with first.locked():
        with pytest.raises(WalletLocked, match="locked"):
            with second.locked():
                pass
    with second.locked():  # released: the second writer gets in
        pass
