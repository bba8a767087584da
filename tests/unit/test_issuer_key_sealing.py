"""The issuer's keys at rest: sealed with the wallet's KDF (scrypt) in a versioned file; homes
whose keys are PKCS#8 PEM under PBKDF2 (2048 iterations) still open and are sealed again the
first time the passphrase unlocks them; a new passphrase shorter than 12 characters is refused."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.home import IssuerHome
from tradevc.vc.errors import KeyMaterialError
from tradevc.vc.keys import KeyPair
from tradevc.vc.sealed import KdfParams, default_kdf, is_sealed, unsafe_test_kdf

PASS = b"correct horse battery staple"
OLD_HOME = Path(__file__).parent.parent / "fixtures" / "issuer-home-pbkdf2-2048"
PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


def header(path: Path) -> dict:
    data = path.read_bytes()
    assert is_sealed(data), data[:40]
    (length,) = struct.unpack(">I", data[5:9])
    return json.loads(data[9 : 9 + length])


def old_home(tmp_path: Path) -> Path:
    """A copy of the fixture home made by the code before issue 18, private as a home must be."""
    home = tmp_path / "mill"
    shutil.copytree(OLD_HOME, home)
    for path in [home, home / "keys"]:
        path.chmod(0o700)
    for path in [home / "issuer.json", *(home / "keys").iterdir()]:
        path.chmod(0o600)
    return home


def test_a_new_home_seals_its_key_with_scrypt(tmp_path):
    home = IssuerHome.create(tmp_path / "mill", name="Aceros del Norte", passphrase=PASS)
    path = tmp_path / "mill" / home.profile.current_key.file
    assert path.name == "1.key" and PEM not in path.read_bytes()
    kdf = header(path)["kdf"]
    assert header(path)["kind"] == "private-key" and kdf["name"] == "scrypt" and kdf["n"] == default_kdf().n
    key, _ = IssuerHome.open(tmp_path / "mill").signing_key(PASS)
    assert key.public_key_multibase == home.profile.current_key.public_key_multibase


def test_a_wrong_passphrase_is_refused_on_a_sealed_key(tmp_path):
    IssuerHome.create(tmp_path / "mill", name="X", passphrase=PASS)
    with pytest.raises(KeyMaterialError, match="wrong passphrase") as caught:
        IssuerHome.open(tmp_path / "mill").signing_key(b"correct horse battery stapler")
    assert caught.value.code == "WRONG_PASSPHRASE"


def test_a_damaged_sealed_key_is_reported_as_damaged(tmp_path):
    home = IssuerHome.create(tmp_path / "mill", name="X", passphrase=PASS)
    path = tmp_path / "mill" / home.profile.current_key.file
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(KeyMaterialError, match="damaged.*integrity check"):
        IssuerHome.open(tmp_path / "mill").signing_key(PASS)


def test_a_home_of_pbkdf2_keys_opens_and_is_sealed_on_first_unlock(tmp_path):
    path = old_home(tmp_path)
    before = {p.name: p.read_bytes() for p in (path / "keys").iterdir()}
    assert all(data.startswith(PEM) for data in before.values())
    home = IssuerHome.open(path)
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        home.signing_key(b"not the passphrase")
    assert {p.name: p.read_bytes() for p in (path / "keys").iterdir()} == before  # nothing written on a refusal

    key, method = home.signing_key(PASS)
    assert method == home.profile.current_key.id and key.public_key_multibase == home.profile.current_key.public_key_multibase
    for name in ("1.pem", "2.pem"):  # the retired key too; the names (in issuer.json) stay
        assert header(path / "keys" / name)["kdf"]["name"] == "scrypt"
    assert json.loads((path / "issuer.json").read_text())["keys"][0]["file"] == "keys/1.pem"

    reopened = IssuerHome.open(path)
    again, _ = reopened.signing_key(PASS)
    assert again.public_key_multibase == key.public_key_multibase
    retired = reopened.profile.keys[0]
    old_key, _ = KeyPair.from_sealed((path / retired.file).read_bytes(), PASS)
    assert old_key.public_key_multibase == retired.public_key_multibase
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        IssuerHome.open(path).signing_key(b"not the passphrase")


def test_the_cli_opens_an_old_home_and_seals_it(tmp_path):
    path = old_home(tmp_path)
    env = {"TRADEVC_ISSUER_HOME": str(path), "TRADEVC_ISSUER_PASSPHRASE": PASS.decode(), "TRADEVC_ISSUER_PASSPHRASE_FILE": None}
    wrong = CliRunner().invoke(issuer_cli, ["publish", "--out-dir", str(tmp_path / "site")],
                               env=env | {"TRADEVC_ISSUER_PASSPHRASE": "nope"})
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output and "Traceback" not in wrong.output
    assert (path / "keys" / "2.pem").read_bytes().startswith(PEM)
    result = CliRunner().invoke(issuer_cli, ["publish", "--out-dir", str(tmp_path / "site")], env=env)
    assert result.exit_code == 0, result.output
    assert header(path / "keys" / "2.pem")["kind"] == "private-key"
    assert (tmp_path / "site" / ".well-known" / "did.json").exists()
    rotated = CliRunner().invoke(issuer_cli, ["key", "rotate"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert header(path / "keys" / "3.key")["kdf"]["name"] == "scrypt"


def test_outside_the_test_shortcut_the_cost_is_full():
    """A process that did not call unsafe_test_kdf (as every vc-issuer run) seals at n=2**17."""
    code = "from tradevc.vc.sealed import default_kdf; print(default_kdf())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "KdfParams(n=131072, r=8, p=1)"


@pytest.mark.strong_kdf
def test_keys_are_sealed_at_full_cost_and_a_cheaper_file_is_sealed_again(tmp_path):
    """A key file sealed at a lower cost (as a file may claim) is sealed again at full cost
    when unlocked: no file sets the cost."""
    assert default_kdf() == KdfParams(n=2**17, r=8, p=1)
    with unsafe_test_kdf():
        home = IssuerHome.create(tmp_path / "mill", name="X", passphrase=PASS)
    path = tmp_path / "mill" / home.profile.current_key.file
    assert header(path)["kdf"]["n"] == 2**14
    IssuerHome.open(tmp_path / "mill").signing_key(PASS)
    assert header(path)["kdf"]["n"] == 2**17
    IssuerHome.open(tmp_path / "mill").signing_key(PASS)


def test_the_cost_cannot_be_lowered_from_the_command_line():
    """No option of any vc-issuer command sets the scrypt cost (nor does the environment: the
    only way is unsafe_test_kdf, from Python)."""
    import click

    def options(command, path=()):
        for param in command.params:
            yield path, param
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from options(sub, (*path, name))

    names = [(path, opt) for path, param in options(issuer_cli) for opt in getattr(param, "opts", [])]
    assert names and not [n for n in names if any(word in n[1].lower() for word in ("scrypt", "kdf", "cost", "iteration"))]
    assert [path for path, opt in names if opt == "--weak-passphrase"] == [("init",)]


# -- a new passphrase: at least 12 characters -----------------------------------------------------


def init(tmp_path, passphrase, *flags):
    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "mill"), "TRADEVC_ISSUER_PASSPHRASE": passphrase,
           "TRADEVC_ISSUER_PASSPHRASE_FILE": None}
    return CliRunner().invoke(issuer_cli, ["init", "--name", "Aceros del Norte", *flags], env=env)


@pytest.mark.parametrize("passphrase", ["x", "   ", " " * 20, "eleven char", "  short one  ", "\tx\t" * 4])
def test_init_refuses_a_short_passphrase(tmp_path, passphrase):
    result = init(tmp_path, passphrase)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "at least 12 characters" in result.output
    assert "--weak-passphrase" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "mill").exists()


@pytest.mark.parametrize("passphrase", ["twelve chars", "añoñañoñañoñ", "  padded but twelve  "])
def test_init_accepts_twelve_characters(tmp_path, passphrase):
    result = init(tmp_path, passphrase)
    assert result.exit_code == 0, result.output
    assert IssuerHome.open(tmp_path / "mill").signing_key(passphrase.encode())


def test_weak_passphrase_accepts_a_short_one_but_not_an_empty_one(tmp_path):
    assert init(tmp_path, "x", "--weak-passphrase").exit_code == 0
    IssuerHome.open(tmp_path / "mill").signing_key(b"x")
    empty = init(tmp_path / "other", "", "--weak-passphrase")
    assert empty.exit_code == 2 and "NO_PASSPHRASE" in empty.output
