"""The wallet and the issuer home keep their files private: a store or key file that is a
symbolic link is refused, one that group or others may read is made 0600 with a warning, and
a home that group or others may write to is refused. Real files, real chmod and symlinks."""

from __future__ import annotations

import shutil
import stat
import warnings

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.errors import IssuerHomeUnsafe
from tradevc.vc.atomicfile import UnsafeFileError, UnsafeModeWarning
from tradevc.wallet import KdfParams, Wallet, WalletUnsafe
from tradevc.wallet.cli import cli as wallet_cli

PASS = "importer passphrase"
FAST = KdfParams(n=2**14)
ISSUER_PASS = b"mill passphrase"


def mode(path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def no_warnings():
    """A context in which any warning fails the test."""
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("error")
    return context


# -- the wallet ----------------------------------------------------------------------------------


@pytest.fixture
def wallet_home(tmp_path):
    Wallet.create(tmp_path / "wallet", PASS, kdf=FAST)
    return tmp_path / "wallet"


def wallet_cli_run(home, *args: str, expect: int):
    env = {"TRADEVC_WALLET_HOME": str(home), "TRADEVC_WALLET_PASSPHRASE": PASS, "TRADEVC_WALLET_PASSPHRASE_FILE": None}
    result = CliRunner().invoke(wallet_cli, list(args), env=env)
    assert result.exit_code == expect, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_private_wallet_opens_without_a_warning(wallet_home):
    context = no_warnings()
    try:
        Wallet.open(wallet_home, PASS)
    finally:
        context.__exit__(None, None, None)
    assert mode(wallet_home / "wallet.vcw") == 0o600
    assert wallet_cli_run(wallet_home, "list", expect=0).stderr == ""


def test_a_wallet_file_that_is_a_symlink_is_refused(wallet_home, tmp_path):
    real = tmp_path / "elsewhere.vcw"
    shutil.move(wallet_home / "wallet.vcw", real)
    (wallet_home / "wallet.vcw").symlink_to(real)
    before = real.read_bytes()
    with pytest.raises(WalletUnsafe, match="symbolic link") as refused:
        Wallet.open(wallet_home, PASS)
    assert refused.value.code == "UNSAFE_FILE" and isinstance(refused.value, UnsafeFileError)
    result = wallet_cli_run(wallet_home, "list", expect=1)
    assert result.output == f"error: {wallet_home / 'wallet.vcw'} is a symbolic link; refusing to follow it " \
                            "(put the file itself there)\n"
    assert real.read_bytes() == before and (wallet_home / "wallet.vcw").is_symlink()


def test_a_lock_file_that_is_a_symlink_is_refused_and_its_target_not_created(wallet_home, tmp_path):
    wallet = Wallet.open(wallet_home, PASS)
    (wallet_home / "wallet.vcw.lock").unlink(missing_ok=True)
    (wallet_home / "wallet.vcw.lock").symlink_to(tmp_path / "planted")
    with pytest.raises(WalletUnsafe, match="lock is a symbolic link"):
        wallet.remove("urn:uuid:anything")
    assert not (tmp_path / "planted").exists()


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o666])
def test_a_wallet_file_open_to_others_is_made_private_with_a_warning(wallet_home, loose):
    (wallet_home / "wallet.vcw").chmod(loose)
    with pytest.warns(UnsafeModeWarning, match=f"mode {loose:04o}.*now 0600"):
        wallet = Wallet.open(wallet_home, PASS)
    assert mode(wallet_home / "wallet.vcw") == 0o600 and wallet.list() == []

    (wallet_home / "wallet.vcw").chmod(loose)
    result = wallet_cli_run(wallet_home, "did", expect=0)
    assert result.stderr == (f"warning: {wallet_home / 'wallet.vcw'} was open to group or others (mode {loose:04o}); "
                             "it is now 0600. Whoever could read it may have copied it.\n")
    assert result.stdout.startswith("did:key:") and mode(wallet_home / "wallet.vcw") == 0o600


@pytest.mark.parametrize("loose", [0o777, 0o770, 0o702, 0o1777])
def test_a_wallet_home_writable_by_others_is_refused(wallet_home, loose):
    before = (wallet_home / "wallet.vcw").read_bytes()
    wallet_home.chmod(loose)
    with pytest.raises(WalletUnsafe, match="writable by group or others"):
        Wallet.open(wallet_home, PASS)
    result = wallet_cli_run(wallet_home, "list", expect=1)
    assert result.output.startswith(f"error: {wallet_home} is writable by group or others (mode {loose:04o})")
    assert result.output.count("\n") == 1
    assert mode(wallet_home) == loose and (wallet_home / "wallet.vcw").read_bytes() == before


def test_a_new_wallet_is_not_made_in_a_directory_others_can_write(tmp_path):
    home = tmp_path / "shared"
    home.mkdir()
    home.chmod(0o777)
    with pytest.raises(WalletUnsafe):
        Wallet.create(home, PASS, kdf=FAST)
    assert not (home / "wallet.vcw").exists()


@pytest.mark.parametrize("fine", [0o700, 0o750, 0o755])
def test_a_wallet_home_others_may_read_but_not_write_is_used(wallet_home, fine):
    wallet_home.chmod(fine)
    assert Wallet.open(wallet_home, PASS).list() == []


# -- the issuer home -------------------------------------------------------------------------------


@pytest.fixture
def issuer_home(tmp_path):
    Issuer.init(tmp_path / "issuer", ISSUER_PASS, name="Aceros del Norte",
                status_base_url="https://mill.example/status/").close()
    return tmp_path / "issuer"


def issuer_cli_run(home, *args: str, expect: int):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": ISSUER_PASS.decode(),
           "TRADEVC_ISSUER_PASSPHRASE_FILE": None}
    result = CliRunner().invoke(issuer_cli, list(args), env=env)
    assert result.exit_code == expect, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_private_issuer_home_opens_without_a_warning(issuer_home):
    context = no_warnings()
    try:
        Issuer.open(issuer_home, ISSUER_PASS).close()
    finally:
        context.__exit__(None, None, None)
    assert {mode(p) for p in [issuer_home / "issuer.json", issuer_home / "keys" / "1.key",
                              issuer_home / "registry.sqlite"]} == {0o600}
    assert issuer_cli_run(issuer_home, "list", expect=0).stderr == ""


@pytest.mark.parametrize("name", ["keys/1.key", "issuer.json", "registry.sqlite"])
def test_an_issuer_file_that_is_a_symlink_is_refused(issuer_home, tmp_path, name):
    real = tmp_path / "elsewhere"
    shutil.move(issuer_home / name, real)
    (issuer_home / name).symlink_to(real)
    before = real.read_bytes()
    with pytest.raises(IssuerHomeUnsafe, match="symbolic link"):
        Issuer.open(issuer_home, ISSUER_PASS)
    result = issuer_cli_run(issuer_home, "revoke", "urn:uuid:any", expect=1)
    assert result.output == f"error: UNSAFE_FILE: {issuer_home / name} is a symbolic link; refusing to follow it " \
                            "(put the file itself there)\n"
    assert real.read_bytes() == before


@pytest.mark.parametrize("name", ["keys/1.key", "issuer.json", "registry.sqlite"])
def test_an_issuer_file_open_to_others_is_made_private_with_a_warning(issuer_home, name):
    (issuer_home / name).chmod(0o644)
    with pytest.warns(UnsafeModeWarning, match="mode 0644.*now 0600"):
        Issuer.open(issuer_home, ISSUER_PASS).close()
    assert mode(issuer_home / name) == 0o600

    (issuer_home / name).chmod(0o604)
    result = issuer_cli_run(issuer_home, "publish", "--out-dir", str(issuer_home.parent / "site"), expect=0)
    assert result.stderr == (f"warning: {issuer_home / name} was open to group or others (mode 0604); "
                             "it is now 0600. Whoever could read it may have copied it.\n")
    assert mode(issuer_home / name) == 0o600


@pytest.mark.parametrize(("folder", "loose"), [("", 0o777), ("", 0o775), ("keys", 0o722)])
def test_an_issuer_home_or_key_folder_writable_by_others_is_refused(issuer_home, folder, loose):
    (issuer_home / folder).chmod(loose)
    with pytest.raises(IssuerHomeUnsafe, match="writable by group or others"):
        Issuer.open(issuer_home, ISSUER_PASS)
    result = issuer_cli_run(issuer_home, "publish", "--out-dir", str(issuer_home.parent / "site"), expect=1)
    assert result.output.startswith(f"error: UNSAFE_FILE: {issuer_home / folder if folder else issuer_home} "
                                    f"is writable by group or others (mode {loose:04o})")
    assert not (issuer_home.parent / "site").exists()


def test_an_issuer_home_others_may_read_but_not_write_is_used(issuer_home):
    issuer_home.chmod(0o755)
    (issuer_home / "keys").chmod(0o755)
    Issuer.open(issuer_home, ISSUER_PASS).close()
