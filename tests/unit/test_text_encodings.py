"""Text files a person gives the three tools: UTF-8 is read with or without a byte order
mark; any other encoding (a Latin-1 "Treviño", UTF-16) is refused with one line naming the
file and the byte offset and saying to save it as UTF-8, exit 2, never a UnicodeDecodeError
(issue 18, point 4). One reader does it: :func:`tradevc.vc.jsontext.decode_text`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import load_example
from tradevc.vc.errors import NotUtf8Error
from tradevc.vc.jsontext import decode_text, read_text
from tradevc.verifier.cli import cli as verify_cli
from tradevc.wallet.cli import cli as wallet_cli

PASS = "mill passphrase"
BOM = b"\xef\xbb\xbf"
MTR = "MillTestReportCredential"


def subject() -> dict:
    body = load_example(MTR)
    body["name"] = "Aceros Treviño"
    return body


def utf8(document) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def latin1(document) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("latin-1")


def offset_of_n_tilde(data: bytes) -> int:
    return data.index("ñ".encode("latin-1"))


# -- the reader ----------------------------------------------------------------------------------


def test_decode_text_drops_a_utf8_byte_order_mark():
    assert decode_text(BOM + "Treviño".encode()) == "Treviño"
    assert decode_text("Treviño".encode()) == "Treviño"
    assert decode_text(b"") == "" and decode_text(BOM) == ""
    assert decode_text(BOM + BOM + b"x") == "\ufeffx"  # only one mark is the file's


@pytest.mark.parametrize("data, offset", [
    ('{"name": "Treviño"}'.encode("latin-1"), 15),
    (BOM + '{"name": "Treviño"}'.encode("latin-1"), 18),  # counted from the file's start
    (b"{}\n\x80", 3),
])
def test_decode_text_refuses_other_bytes_with_the_offset(data, offset):
    with pytest.raises(NotUtf8Error) as caught:
        decode_text(data, source="subject.json")
    error = caught.value
    assert error.offset == offset and error.code == "PARSING_ERROR"
    assert error.message.startswith("subject.json: not UTF-8 text: ")
    assert f"at offset {offset}" in error.message and "save the file as UTF-8" in error.message


def test_decode_text_guesses_latin1_and_shows_where():
    with pytest.raises(NotUtf8Error, match=r"Latin-1 or Windows-1252 \(near '\{\"name\": \"Treviño\"}'\)"):
        decode_text(BOM + '{"name": "Treviño"}'.encode("latin-1"))


@pytest.mark.parametrize("mark, encoding, name", [
    (b"\xff\xfe", "utf-16-le", "UTF-16"), (b"\xfe\xff", "utf-16-be", "UTF-16"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
])
def test_decode_text_names_utf16_and_utf32(mark, encoding, name):
    with pytest.raises(NotUtf8Error, match=f"it is {name} .*save it as UTF-8") as caught:
        decode_text(mark + '{"name": "Treviño"}'.encode(encoding))
    assert caught.value.offset == 0


@given(st.text())
def test_decode_text_round_trips_utf8_with_or_without_a_bom(text):
    assert decode_text(BOM + text.encode("utf-8")) == text
    assert decode_text(text.encode("utf-8")) == text.removeprefix("\ufeff")  # a leading U+FEFF is the mark


@given(st.binary(max_size=64))
def test_decode_text_never_lets_a_codec_error_out(data):
    try:
        text = decode_text(data, source="any.json")
    except NotUtf8Error as e:
        assert 0 <= e.offset < len(data) and e.message.startswith("any.json: not UTF-8 text: ")
    else:
        assert text == data.removeprefix(BOM).decode("utf-8")


def test_read_text_names_the_file(tmp_path):
    path = tmp_path / "policy.json"
    path.write_bytes(BOM + b"{}")
    assert read_text(path) == "{}"
    path.write_bytes("Treviño".encode("latin-1"))
    with pytest.raises(NotUtf8Error, match=f"^{path}: not UTF-8 text: byte 0xF1 at offset 5 "):
        read_text(path)


# -- vc-issuer -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("issuer") / "home"
    Issuer.init(path, PASS.encode(), name="Aceros Treviño").close()  # did:key: verifiable offline
    return path


def issue(home: Path, *args, input: bytes | None = None):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": PASS}
    return CliRunner().invoke(issuer_cli, ["issue", *map(str, args)], env=env, input=input)


def issued(home: Path) -> list[str]:
    with Issuer.open(home, PASS.encode()) as issuer:
        return [r.id for r in issuer.issued()]


@pytest.mark.parametrize("mark", [b"", BOM], ids=["utf-8", "utf-8-bom"])
def test_issuer_reads_utf8_with_or_without_a_bom(home, tmp_path, mark):
    path = tmp_path / "subject.json"
    path.write_bytes(mark + utf8(subject()))
    result = issue(home, "--type", MTR, "--subject", path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["credentialSubject"]["name"] == "Aceros Treviño"
    piped = issue(home, "--type", MTR, "--subject", "-", input=mark + utf8(subject()))
    assert piped.exit_code == 0, piped.output


def test_issuer_refuses_a_latin1_subject_naming_the_file_and_offset(home, tmp_path):
    path = tmp_path / "subject.json"
    data = latin1(subject())
    path.write_bytes(data)
    before = issued(home)
    result = issue(home, "--type", MTR, "--subject", path)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: PARSING_ERROR: {path}: not UTF-8 text: byte 0xF1 at offset "
                                    f"{offset_of_n_tilde(data)} ")
    assert "save the file as UTF-8" in result.output and result.output.count("\n") == 1
    assert "UnicodeDecodeError" not in result.output and "Traceback" not in result.output
    assert issued(home) == before
    piped = issue(home, "--type", MTR, "--subject", "-", input=data)
    assert piped.exit_code == 2 and "standard input: not UTF-8 text" in piped.output


def test_issuer_refuses_a_utf16_credential(home, tmp_path):
    path = tmp_path / "credential.json"
    path.write_text(json.dumps({"credentialSubject": {"id": "did:example:x"}}), encoding="utf-16")
    result = issue(home, "--credential", path)
    assert result.exit_code == 2 and f"{path}: not UTF-8 text: it is UTF-16" in result.output, result.output


def test_issuer_reads_derived_from_with_a_bom_and_refuses_latin1(home, tmp_path):
    signed = issue(home, "--type", MTR, "--subject", "-", input=utf8(subject()))
    assert signed.exit_code == 0, signed.output
    source = json.loads(signed.stdout)
    (tmp_path / "input.json").write_bytes(BOM + utf8(source))
    (tmp_path / "event.json").write_bytes(utf8(subject()))
    ok = issue(home, "--type", MTR, "--subject", tmp_path / "event.json", "--derived-from", tmp_path / "input.json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["relatedResource"][0]["id"] == source["id"]
    (tmp_path / "input.json").write_bytes(latin1(source))
    bad = issue(home, "--type", MTR, "--subject", tmp_path / "event.json", "--derived-from", tmp_path / "input.json")
    assert bad.exit_code == 2 and f"{tmp_path / 'input.json'}: not UTF-8 text" in bad.output, bad.output


# -- vc-verify and vc-wallet ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(home):
    with Issuer.open(home, PASS.encode()) as issuer:
        return issuer.issue(subject(), type_name=MTR), issuer.did


@pytest.fixture
def trust(tmp_path, signed):
    path = tmp_path / "trust.json"
    path.write_bytes(BOM + utf8({"trustedIssuers": {signed[1]: [MTR]}}))
    return path


@pytest.mark.parametrize("mark", [b"", BOM], ids=["utf-8", "utf-8-bom"])
def test_verifier_reads_utf8_with_or_without_a_bom(tmp_path, signed, trust, mark):
    path = tmp_path / "mtr.json"
    path.write_bytes(mark + utf8(signed[0]))
    result = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", str(trust), "--offline"])
    assert result.exit_code == 0, result.output
    lines = tmp_path / "inbox.jsonl"
    lines.write_bytes(mark + json.dumps(signed[0]).encode() + b"\n")
    result = CliRunner().invoke(verify_cli, ["batch", str(lines), "--trust", str(trust), "--offline", "--workers", "1"])
    assert result.exit_code == 0, result.output


def test_verifier_refuses_a_latin1_credential_naming_it(tmp_path, signed, trust):
    path = tmp_path / "mtr.json"
    data = latin1(signed[0])
    path.write_bytes(data)
    result = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", str(trust), "--offline"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}: not UTF-8 text: byte 0xF1 at offset {offset_of_n_tilde(data)} ")
    assert "save the file as UTF-8" in result.stderr and "Traceback" not in result.output
    # in a batch, a line that is not UTF-8 fails on its own, named with the reason; the others are verified
    lines = tmp_path / "inbox.jsonl"
    lines.write_bytes(json.dumps(signed[0], ensure_ascii=False).encode("latin-1") + b"\n"
                      + utf8(signed[0]).replace(b"\n", b"") + b"\n")
    result = CliRunner().invoke(verify_cli, ["batch", str(lines), "--trust", str(trust), "--offline", "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert f"{lines}:1: not verified: structure: PARSING_ERROR (not UTF-8 text: byte 0xF1" in result.output
    assert "save the file as UTF-8" in result.output and f"{lines}:2" not in result.output
    assert "Traceback" not in result.output


def test_verifier_refuses_a_latin1_trust_policy_naming_it(tmp_path, signed):
    path = tmp_path / "mtr.json"
    path.write_bytes(utf8(signed[0]))
    policy = tmp_path / "trust.json"
    policy.write_bytes(json.dumps({"trustedIssuers": {signed[1]: [MTR]}, "note": "Treviño"},
                                  ensure_ascii=False).encode("latin-1"))
    result = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", str(policy), "--offline"])
    assert result.exit_code == 2, result.output
    assert "not UTF-8 text: byte 0xF1 at offset" in result.output and str(policy) in result.output
    assert "UnicodeDecodeError" not in result.output


@pytest.fixture
def wallet(tmp_path):
    env = {"TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": "importer passphrase",
           "TRADEVC_WALLET_PASSPHRASE_FILE": None}

    def run(*args):
        return CliRunner().invoke(wallet_cli, list(map(str, args)), env=env)

    assert run("init").exit_code == 0  # the tests' session KDF cost (tests/conftest.py)
    return run


def test_wallet_adds_utf8_with_a_bom_and_refuses_latin1(wallet, tmp_path, signed, trust):
    good = tmp_path / "good.json"
    good.write_bytes(BOM + utf8(signed[0]))
    bad = tmp_path / "bad.json"
    data = latin1(signed[0])
    bad.write_bytes(data)
    result = wallet("add", bad, good, "--offline", "--trust", trust)
    assert result.exit_code == 2, result.output
    assert f"REFUSED {bad}: not UTF-8 text: byte 0xF1 at offset {offset_of_n_tilde(data)} " in result.stderr
    assert "save the file as UTF-8" in result.stderr and "Traceback" not in result.output
    assert f"added {signed[0]['id']}" in result.stdout  # the other file is still added
    assert wallet("add", good, "--offline").exit_code == 0


# -- the other files a person gives: pinned contexts, the mirror mapping, an entry -------------


def test_a_contexts_index_with_a_bom_is_read_and_a_latin1_one_refused(tmp_path):
    from conftest import write_context_folder
    from tradevc.vc.errors import ContextIndexError
    from tradevc.vc.jsonld import PinnedContextLoader

    url = "https://steel.example/contexts/v1"
    folder = write_context_folder(tmp_path / "contexts", {url: {"@context": {"grade": "https://steel.example/grade"}}})
    index = folder / "index.json"
    text = json.loads(index.read_text(encoding="utf-8"))
    text["note"] = "pinned by Aceros Treviño"
    index.write_bytes(BOM + utf8(text))
    assert PinnedContextLoader.with_user_contexts(folder)(url, {})["document"]["@context"]["grade"]
    index.write_bytes(latin1(text))
    with pytest.raises(ContextIndexError, match=f"^{index}: not UTF-8 text: byte 0xF1 at offset"):
        PinnedContextLoader.with_user_contexts(folder)


def test_a_mirror_file_with_a_bom_is_read_and_a_latin1_one_refused(tmp_path, signed, trust):
    from tradevc.vc.retrieval.mirror import Mirror

    path = tmp_path / "mirror.json"
    mapping = {"hosts": {"mill.example": "https://mirror.example/mill"}}
    path.write_bytes(BOM + utf8(mapping))
    assert Mirror.from_file(path).hosts == {"mill.example": "https://mirror.example/mill/"}
    path.write_bytes(latin1({"hosts": {"mill.example": "https://mirror.example/treviño"}}))
    with pytest.raises(ValueError, match="not UTF-8 text: byte 0xF1 at offset"):
        Mirror.from_file(path)
    credential = tmp_path / "mtr.json"
    credential.write_bytes(utf8(signed[0]))
    result = CliRunner().invoke(verify_cli, ["credential", str(credential), "--trust", str(trust),
                                             "--mirror-file", str(path)])
    assert result.exit_code == 2 and "not UTF-8 text" in result.output and "codec" not in result.output


def test_an_entry_file_in_latin1_is_refused_with_the_offset(tmp_path):
    from tradevc.verifier.entry import EntryError
    from tradevc.verifier.entry.model import read_entry

    path = tmp_path / "entry.json"
    path.write_bytes('{"importer": "Treviño"}'.encode("latin-1"))
    with pytest.raises(EntryError) as caught:
        read_entry(path)
    assert caught.value.problems[0].startswith("(entry): not UTF-8 text: byte 0xF1 at offset 19 ")
    path.write_bytes(BOM + b"{not json")  # the mark is dropped: what follows is read as JSON
    with pytest.raises(EntryError) as caught:
        read_entry(path)
    assert caught.value.problems[0].startswith("(entry): not JSON")
