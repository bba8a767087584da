"""A passphrase file is UTF-8 text (issue 18, point 4): one in another encoding is named and
refused (exit 2, one ``error:`` line), never a traceback; a UTF-8 one works as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer.cli import cli as issuer_cli
from tradevc.wallet.cli import cli as wallet_cli

LATIN1 = "Treviño-passphrase-2026".encode("latin-1")


def _run(cli: object, args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)  # type: ignore[arg-type]
    return result.exit_code, result.stderr


@pytest.mark.parametrize("tool", ["issuer", "wallet"])
def test_a_passphrase_file_not_in_utf8_is_named_and_refused(tmp_path: Path, tool: str) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_bytes(LATIN1 + b"\n")
    if tool == "issuer":
        code, err = _run(issuer_cli, ["--home", str(tmp_path / "home"), "--passphrase-file", str(secret),
                                      "init", "--name", "Aceros"])
        made = tmp_path / "home"
    else:
        code, err = _run(wallet_cli, ["--home", str(tmp_path / "wallet"), "--passphrase-file", str(secret), "init"])
        made = tmp_path / "wallet"
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert str(secret) in err and "UTF-8" in err
    assert "Traceback" not in err and "codec" not in err
    assert "Trevi" not in err and "passphrase-2026" not in err  # the secret is never shown
    assert not (made / "keys").exists() and not (made / "wallet.vcw").exists()


def test_a_utf8_passphrase_file_with_a_non_ascii_character_still_works(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("Treviño-passphrase-2026\n", encoding="utf-8")
    code, err = _run(issuer_cli, ["--home", str(tmp_path / "home"), "--passphrase-file", str(secret),
                                  "init", "--name", "Aceros"])
    assert code == 0, err
    code, err = _run(issuer_cli, ["--home", str(tmp_path / "home"), "--passphrase-file", str(secret), "did"])
    assert code == 0, err


# -- a byte order mark (Windows Notepad saves one) --------------------------------------------

BOM = b"\xef\xbb\xbf"
SECRET = "Treviño-passphrase-2026"


def _marked_file(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_bytes(BOM + SECRET.encode() + b"\r\n")
    return path


@pytest.mark.parametrize("tool", ["issuer", "wallet"])
def test_a_passphrase_set_from_a_file_with_a_byte_order_mark_is_the_text_without_it(
        tmp_path: Path, tool: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set from a Notepad file, the passphrase is the one a person types at the prompt."""
    secret = _marked_file(tmp_path)
    cli, init = (issuer_cli, ["init", "--name", "Aceros"]) if tool == "issuer" else (wallet_cli, ["init"])
    home = str(tmp_path / "home")
    code, err = _run(cli, ["--home", home, "--passphrase-file", str(secret), *init])
    assert code == 0, err
    code, err = _run(cli, ["--home", home, "--passphrase-file", str(secret), "did"])
    assert code == 0, err
    typed = tmp_path / "typed.txt"
    typed.write_text(SECRET + "\n", encoding="utf-8")
    code, err = _run(cli, ["--home", home, "--passphrase-file", str(typed), "did"])
    assert code == 0, err
    if tool == "issuer":
        from tradevc.issuer.home import IssuerHome
        assert IssuerHome.open(tmp_path / "home").signing_key(SECRET.encode())
    else:
        from tradevc.wallet import Wallet
        assert Wallet.open(tmp_path / "home", SECRET).holder_did


@pytest.mark.parametrize("tool", ["issuer", "wallet"])
def test_a_home_sealed_with_the_mark_by_an_earlier_version_still_opens_from_that_file(tmp_path: Path, tool: str) -> None:
    """Versions before 2026-12-03 kept the mark as part of the secret: the file that set it
    still opens it (tried without the mark, then with it); typed without the mark, it does not."""
    home = tmp_path / "home"
    marked = "\ufeff" + SECRET
    if tool == "issuer":
        from tradevc.issuer import Issuer
        with Issuer.init(home, marked.encode(), name="Aceros"):
            pass
        cli = issuer_cli
    else:
        from tradevc.wallet import Wallet
        Wallet.create(home, marked)
        cli = wallet_cli
    unlock = ["backup", str(tmp_path / "backup.bin")] if tool == "issuer" else ["did"]  # needs the key
    code, err = _run(cli, ["--home", str(home), "--passphrase-file", str(_marked_file(tmp_path)), *unlock])
    assert code == 0, err
    typed = tmp_path / "typed.txt"
    typed.write_text(SECRET + "\n", encoding="utf-8")
    code, err = _run(cli, ["--home", str(home), "--passphrase-file", str(typed), *unlock])
    assert code == 1 and "wrong passphrase" in err.lower(), err


def test_opening_tries_the_mark_once_and_only_for_a_wrong_passphrase() -> None:
    from tradevc.clistyle import FileSecret, opening

    class Wrong(Exception):
        code = "WRONG_PASSPHRASE"

    tried: list[str] = []

    def use(text: str) -> str:
        tried.append(text)
        if not text.startswith("\ufeff"):
            raise Wrong()
        return "opened"

    def wrong(error: Exception) -> bool:
        return isinstance(error, Wrong)

    secret = FileSecret(SECRET)
    secret.with_mark = "\ufeff" + SECRET
    assert opening(secret, use, wrong) == "opened" and tried == [SECRET, "\ufeff" + SECRET]
    with pytest.raises(Wrong):  # no mark in the file: no second try
        opening(FileSecret(SECRET), use, wrong)
    with pytest.raises(Wrong):  # typed or from the environment: a plain str
        opening(SECRET, use, wrong)

    def damaged(text: str) -> str:
        tried.append(text)
        raise ValueError("damaged file")

    tried.clear()
    with pytest.raises(ValueError):  # not a wrong passphrase: not tried again
        opening(secret, damaged, wrong)
    assert tried == [SECRET]
