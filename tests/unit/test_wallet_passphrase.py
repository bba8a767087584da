"""vc-wallet where a passphrase is set (init, import into a new wallet, export under a backup
passphrase): at least 12 characters unless --weak-passphrase; the scrypt cost can be raised
from the command line but not lowered; a wallet sealed at a lower cost is sealed again at
today's cost on its next write."""

from __future__ import annotations

import json
import struct

import pytest
from click.testing import CliRunner

from tradevc.vc.sealed import KdfParams
from tradevc.wallet import Wallet
from tradevc.wallet.cli import cli as wallet_cli

PASS = "importer passphrase"


def run(tmp_path, *args, passphrase=PASS):
    env = {"TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": passphrase,
           "TRADEVC_WALLET_PASSPHRASE_FILE": None}
    return CliRunner().invoke(wallet_cli, list(args), env=env)


def kdf_of(path):
    data = path.read_bytes()
    (length,) = struct.unpack(">I", data[5:9])
    return json.loads(data[9 : 9 + length])["kdf"]


def refused_as_weak(result):
    return (result.exit_code == 2 and result.output.startswith("error: ") and "at least 12 characters" in result.output
            and "--weak-passphrase" in result.output and "Traceback" not in result.output)


@pytest.mark.parametrize("passphrase", ["x", "   ", " " * 16, "eleven char"])
def test_init_refuses_a_short_passphrase(tmp_path, passphrase):
    result = run(tmp_path, "init", passphrase=passphrase)
    assert refused_as_weak(result), result.output
    assert not (tmp_path / "wallet").exists()


def test_init_accepts_twelve_characters_or_a_short_one_when_told(tmp_path):
    assert run(tmp_path, "init", passphrase="twelve chars").exit_code == 0
    assert Wallet.open(tmp_path / "wallet", "twelve chars").holder_did.startswith("did:key:")
    assert run(tmp_path / "weak", "init", "--weak-passphrase", passphrase="x").exit_code == 0
    assert Wallet.open(tmp_path / "weak" / "wallet", "x").holder_did.startswith("did:key:")


def test_a_backup_passphrase_is_held_to_the_same_rule(tmp_path):
    assert run(tmp_path, "init").exit_code == 0
    short = tmp_path / "short.txt"
    short.write_text("backup\n")
    result = run(tmp_path, "export", str(tmp_path / "backup.vcw"), "--backup-passphrase-file", str(short))
    assert refused_as_weak(result) and "backup passphrase" in result.output
    assert not (tmp_path / "backup.vcw").exists()
    result = run(tmp_path, "export", str(tmp_path / "backup.vcw"), "--backup-passphrase-file", str(short), "--weak-passphrase")
    assert result.exit_code == 0, result.output

    # restoring into a new wallet sets that wallet's passphrase: the rule applies again
    target = tmp_path / "restored"
    result = run(target, "import", str(tmp_path / "backup.vcw"), "--backup-passphrase-file", str(short), "--offline",
                 passphrase="short")
    assert refused_as_weak(result), result.output
    assert not (target / "wallet").exists()
    result = run(target, "import", str(tmp_path / "backup.vcw"), "--backup-passphrase-file", str(short), "--offline",
                 "--weak-passphrase", passphrase="short")
    assert result.exit_code == 0, result.output
    # importing into an existing wallet sets no passphrase: the existing one is fine whatever it is
    result = run(target, "import", str(tmp_path / "backup.vcw"), "--backup-passphrase-file", str(short), "--offline",
                 passphrase="short")
    assert result.exit_code == 0, result.output


def test_the_scrypt_cost_cannot_be_lowered_from_the_command_line(tmp_path):
    result = run(tmp_path, "init", "--scrypt-n", "16384")
    assert result.exit_code == 2 and "--scrypt-n" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "wallet").exists()


@pytest.mark.strong_kdf
def test_a_wallet_sealed_at_a_lower_cost_is_sealed_again_on_its_next_write(tmp_path):
    wallet = Wallet.create(tmp_path / "wallet", PASS, kdf=KdfParams(n=2**14))
    path = tmp_path / "wallet" / "wallet.vcw"
    assert kdf_of(path)["n"] == 2**14
    Wallet.open(tmp_path / "wallet", PASS)  # reading writes nothing
    assert kdf_of(path)["n"] == 2**14
    wallet.check()  # a write
    assert kdf_of(path)["n"] == 2**17
    assert Wallet.open(tmp_path / "wallet", PASS).holder_did == wallet.holder_did
