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
