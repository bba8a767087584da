"""One style of error for the three command-line tools (issue 18, point 13).

Every failure is told on stderr in lines that start with ``error: ``, with no traceback, no
Python type name and none of pydantic's wording; the exit status says what kind of failure it
was: 2 a usage error or a value that cannot be used (what was typed on the command line), 1 a
refusal (the input was read and refused, a wrong passphrase, an unknown id), 3 could not verify,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from conftest import ROOT, load_vector
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli as verify_cli
from tradevc.wallet import Wallet
from tradevc.wallet.cli import cli as wallet_cli

PASS = "issuer passphrase long"
WALLET_PASS = "wallet passphrase long"
KEY = KeyPair.generate("Ed25519")
MTR = "MillTestReportCredential"

# What must never reach the user: Python's and pydantic's words.
FORBIDDEN = (
    "Traceback", "NoneType", "KeyError", "TypeError", "ValueError", "AttributeError", "dict", "str object",
    "Input should be", "type=", "input_value", "Field required", "Value error", "pydantic", "errors.pydantic.dev",
    "Usage:", "Try '", "Error:", "Aborted",
)


def credential(status_url: str | None = None) -> dict[str, Any]:
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = KEY.did
    if status_url is not None:
        document["credentialStatus"] = {
            "id": f"{status_url}#3", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "3", "statusListCredential": status_url,
        }
    return sign_credential(document, KEY, created="2026-01-01T00:00:00Z")


def write(path: Path, document: Any) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


class World:
    """An issuer home, a wallet, a signed credential, a trust policy and a few bad files."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.issuer_home = tmp / "issuer"
        Issuer.init(self.issuer_home, PASS.encode(), name="Aceros del Norte").close()
        self.wallet_home = tmp / "wallet"
        Wallet.create(self.wallet_home, WALLET_PASS)
        self.credential = write(tmp / "credential.json", credential())
        self.policy = write(tmp / "trust.json", {"trustedIssuers": [
            {"did": KEY.did, "name": "Example", "types": ["AlumniCredential"]}]})
        self.marks = write(tmp / "marks.json", {"recordedMarks": [{"mark": "ACME", "rightsHolder": KEY.did}]})
        self.subject = write(tmp / "mtr.subject.json", load_example(MTR))
        wrong = load_example(MTR)
        wrong["customer"]["name"] = 5
        self.wrong_subject = write(tmp / "wrong.subject.json", wrong)
        self.not_json = write(tmp / "not.json", '{"type": ')
        self.wrong_passphrase = write(tmp / "wrong-passphrase", "not the passphrase at all")
        entry = _entry()
        entry["lines"][0]["quantity"] = "a lot"
        entry["lines"][0]["line"] = "one"
        del entry["dateOfImport"]
        self.wrong_entry = write(tmp / "entry.json", entry)
        self.missing = str(tmp / "no-such-file.json")
        self.folder = str(tmp)


def _entry() -> dict[str, Any]:
    return {"entryNumber": "ABC-1234567-8", "dateOfImport": "2025-02-10", "entrySummaryDate": "2025-02-12",
            "importerOfRecord": {"identifier": "76-1234567", "did": KEY.did, "name": "Gulf Coast Pipe"},
            "lines": [{"line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe", "quantity": 78422,
                       "unit": "KGM", "value": 113711.90, "countryOfOrigin": "MX", "credentials": ["urn:uuid:1"]}]}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World(tmp_path_factory.mktemp("cli-errors"))


TOOLS = {"vc-issuer": issuer_cli, "vc-verify": verify_cli, "vc-wallet": wallet_cli}


def run(world: World, tool: str, args: list[str]) -> Any:
    env = {
        "TRADEVC_ISSUER_HOME": str(world.issuer_home), "TRADEVC_ISSUER_PASSPHRASE": PASS,
        "TRADEVC_ISSUER_PASSPHRASE_FILE": None,
        "TRADEVC_WALLET_HOME": str(world.wallet_home), "TRADEVC_WALLET_PASSPHRASE": WALLET_PASS,
        "TRADEVC_WALLET_PASSPHRASE_FILE": None, "TRADEVC_CHALLENGES": None, "TRADEVC_PACK_SIGNERS": None,
    }
    return CliRunner().invoke(TOOLS[tool], args, env=env, prog_name=tool)


def assert_error_style(result: Any, code: int) -> list[str]:
    """Exit ``code``; stderr is a few lines, each starting with ``error: ``, in plain words."""
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 3 and all(line.startswith("error: ") for line in lines), result.stderr
    for word in FORBIDDEN:
        assert word not in result.stderr, (word, result.stderr)
    return lines


W = Callable[[World], list[str]]
CASES: list[Any] = [
    # -- usage: click's own errors, in the house style (exit 2) --------------------------------
    pytest.param("vc-verify", lambda w: ["presentation", w.credential, "--trust", w.policy, "--domain", "d"], 2,
                 "error: missing option '--challenge' (see 'vc-verify presentation --help')", id="verify-missing-option"),
    pytest.param("vc-verify", lambda w: ["credential", "--trust", w.policy], 2,
                 "error: missing argument 'FILE' (see 'vc-verify credential --help')", id="verify-missing-argument"),
    pytest.param("vc-verify", lambda w: ["nosuch"], 2, "error: no such command 'nosuch' (see 'vc-verify --help')",
                 id="verify-unknown-command"),
    pytest.param("vc-verify", lambda w: ["credential", w.credential, "--bogus"], 2, "error: no such option",
                 id="verify-unknown-option"),
    pytest.param("vc-verify", lambda w: ["credential", w.folder, "--trust", w.policy], 2, "is a directory",
                 id="verify-directory-as-file"),
    pytest.param("vc-verify", lambda w: ["credential", w.missing, "--trust", w.policy], 2, "cannot read",
                 id="verify-missing-file"),
    pytest.param("vc-verify", lambda w: ["credential", w.credential, "--trust", w.missing], 2, "cannot read",
                 id="verify-missing-policy"),
    pytest.param("vc-verify", lambda w: ["credential", w.credential, "--trust",
                                         write(w.tmp / "bad-policy.json", {"trustedIssuers": 5})], 2,
                 "--trust", id="verify-policy-wrong-types"),
    pytest.param("vc-verify", lambda w: ["credential", w.credential, "--trust",
                                         write(w.tmp / "bad-roots.json", {"roots": [{"did": 5}]})], 2,
                 "roots[0].did: must be a DID", id="verify-policy-roots-wrong-types"),
    pytest.param("vc-verify", lambda w: ["credential", w.credential, "--trust", w.policy, "--compat", "bogus"], 2,
                 "--compat", id="verify-bad-compat"),
    pytest.param("vc-verify", lambda w: ["mark", "--mark", "ACME", "--party", KEY.did, "--hs", "steel",
                                         "--trust", w.marks, "--offline"], 2, "--hs", id="verify-mark-bad-hs"),
    pytest.param("vc-verify", lambda w: ["entry", w.wrong_entry, w.credential, "--trust", w.policy,
                                         "--challenge", "c", "--domain", "d", "--offline"], 2,
                 "lines[0].quantity: must be a number", id="entry-wrong-types"),
    # -- vc-issuer ----------------------------------------------------------------------------
    pytest.param("vc-issuer", lambda w: ["issue", "--subject", w.subject], 2,
                 "error: --subject needs --type (see 'vc-issuer issue --help')", id="issuer-usage"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.subject, "--valid-until", "soon"], 2,
                 "--valid-until", id="issuer-bad-valid-until"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.subject, "--valid-from", "2026-13-01"],
                 2, "--valid-from", id="issuer-bad-valid-from"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.subject, "--id", "not a url"], 2,
                 "--id", id="issuer-bad-id"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.missing], 2, "no-such-file",
                 id="issuer-missing-subject"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.folder], 2, "is a directory",
                 id="issuer-directory-as-subject"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.subject, "--derived-from", w.missing],
                 2, "no-such-file", id="issuer-missing-derived-from"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.not_json], 1, "not.json: not JSON",
                 id="issuer-subject-not-json"),
    pytest.param("vc-issuer", lambda w: ["issue", "--type", MTR, "--subject", w.wrong_subject], 1,
                 "credentialSubject.customer.name: must be a string, got a number", id="issuer-subject-wrong-types"),
    pytest.param("vc-issuer", lambda w: ["--passphrase-file", w.wrong_passphrase, "revoke", "urn:uuid:nothing"], 1,
                 "wrong passphrase", id="issuer-wrong-passphrase"),
    pytest.param("vc-issuer", lambda w: ["--passphrase-file", w.missing, "revoke", "urn:uuid:nothing"], 2,
                 "no-such-file", id="issuer-missing-passphrase-file"),
    pytest.param("vc-issuer", lambda w: ["revoke", "urn:uuid:nothing"], 1, "urn:uuid:nothing",
                 id="issuer-unknown-credential"),
    pytest.param("vc-issuer", lambda w: ["init", "--name"], 2, "error: option '--name' requires an argument",
                 id="issuer-option-without-value"),
    # -- vc-wallet ----------------------------------------------------------------------------
    pytest.param("vc-wallet", lambda w: ["--passphrase-file", w.wrong_passphrase, "list"], 1, "passphrase",
                 id="wallet-wrong-passphrase"),
    pytest.param("vc-wallet", lambda w: ["--passphrase-file", w.missing, "list"], 2, "no-such-file",
                 id="wallet-missing-passphrase-file"),
    pytest.param("vc-wallet", lambda w: ["show", "urn:uuid:nothing"], 1, "urn:uuid:nothing",
                 id="wallet-unknown-credential"),
    pytest.param("vc-wallet", lambda w: ["present", "--credential", "urn:uuid:x", "--domain", "d"], 2,
                 "error: missing option '--challenge' (see 'vc-wallet present --help')", id="wallet-missing-option"),
    pytest.param("vc-wallet", lambda w: ["add", w.folder], 2, "is a directory", id="wallet-directory-as-file"),
    pytest.param("vc-wallet", lambda w: ["add", "--trust", write(w.tmp / "wallet-bad-policy.json", {"trustedIssuers": 5}),
                                         w.credential], 2, "--trust", id="wallet-policy-wrong-types"),
]


@pytest.mark.parametrize(("tool", "args", "code", "says"), CASES)
def test_errors_are_one_style_with_the_right_exit_status(world: World, tool: str, args: W, code: int, says: str):
    lines = assert_error_style(run(world, tool, args(world)), code)
    assert says in "\n".join(lines), lines


def test_help_is_still_clicks_help(world: World):
    for tool in TOOLS:
        result = run(world, tool, ["--help"])
        assert result.exit_code == 0 and result.stdout.startswith(f"Usage: {tool} ") and result.stderr == ""
    result = run(world, "vc-verify", ["presentation", "--help"])
    assert result.exit_code == 0 and "--challenge" in result.stdout


def test_a_file_that_cannot_be_read_by_vc_wallet_add_is_bad_input(world: World):
    """Like a file that is not UTF-8: the others are still added, and the exit status is 2."""
    result = run(world, "vc-wallet", ["add", world.missing, "--offline"])
    assert result.exit_code == 2, result.output
    assert "cannot read it" in result.stderr and "Traceback" not in result.stderr


def test_a_credential_with_wrong_types_is_reported_in_plain_words(world: World, tmp_path: Path):
    """What the data model refuses (vc/model.py) reaches the report without pydantic's words."""
    document = json.loads(Path(world.credential).read_text())
    document["id"] = 5
    document["issuer"] = {"id": None}
    del document["credentialSubject"]
    result = run(world, "vc-verify", ["credential", write(tmp_path / "c.json", document), "--trust", world.policy])
    assert result.exit_code == 1, result.output
    assert "id: must be a string, got a number" in result.stdout, result.stdout
    assert "credentialSubject: required field is missing" in result.stdout, result.stdout
    assert "issuer.id must be a URL; got null" in result.stdout and "None" not in result.stdout, result.stdout
    for word in FORBIDDEN:
        assert word not in result.stdout, (word, result.stdout)


def test_a_document_of_the_wrong_json_kind_is_named_in_json_words(world: World, tmp_path: Path):
    result = run(world, "vc-verify", ["credential", write(tmp_path / "list.json", [1, 2]), "--trust", world.policy])
    assert result.exit_code == 1 and "got a list" in result.stdout and "got list" not in result.stdout, result.output


# -- the network, as the verifier reports it --------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_status_list_host_that_refuses_the_connection_is_could_not_verify(world: World, tmp_path: Path):
    port = closed_port()
    path = write(tmp_path / "c.json", credential(f"https://127.0.0.1:{port}/status/1"))
    result = run(world, "vc-verify", ["credential", path, "--trust", world.policy, "--allow-host", f"127.0.0.1:{port}"])
    assert result.exit_code == 3, result.output
    assert f"127.0.0.1:{port} refused the connection" in result.stdout, result.stdout
    assert "ConnectionError" not in result.stdout and "Traceback" not in result.output


def test_a_status_list_behind_a_private_ca_says_to_pass_ca_bundle(world: World, https_server, tmp_path: Path):
    (https_server.root / "status").mkdir()
    (https_server.root / "status" / "1").write_text("{}")
    path = write(tmp_path / "c.json", credential(https_server.url("status/1")))
    args = ["credential", path, "--trust", world.policy, "--allow-host", https_server.host]
    result = run(world, "vc-verify", args)
    assert result.exit_code == 3, result.output
    assert "the certificate of localhost is not trusted" in result.stdout and "--ca-bundle FILE" in result.stdout
    trusted = run(world, "vc-verify", [*args, "--ca-bundle", str(https_server.ca_path)])
    assert "--ca-bundle" not in trusted.stdout and https_server.requested == ["/status/1"], trusted.output


# -- Ctrl-C ----------------------------------------------------------------------------------


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a TLS handshake
    waits on it); ``connected`` is set once a client is in."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = int(self.sock.getsockname()[1])
        self.connected = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                self.held.append(conn)
                self.connected.set()
        except OSError:
            return

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def start(tool: str, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    module = {"vc-issuer": "tradevc.issuer", "vc-verify": "tradevc.verifier", "vc-wallet": "tradevc.wallet"}[tool]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRADEVC_")}
    environment.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd, env=environment, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def interrupted(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def wait_for_reader(fifo: Path, process: subprocess.Popen[str]) -> int:
    """Wait until ``process`` has opened ``fifo`` to read (it then waits for data); returns
    the write end, kept open so that the read does not end."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            assert process.poll() is None, process.communicate()
            threading.Event().wait(0.02)


def test_ctrl_c_while_vc_verify_credential_waits_on_the_network(world: World, silent_server: SilentServer, tmp_path):
    path = write(tmp_path / "c.json", credential(f"https://127.0.0.1:{silent_server.port}/status/1"))
    process = start("vc-verify", ["credential", path, "--trust", world.policy,
                                  "--allow-host", f"127.0.0.1:{silent_server.port}"], tmp_path)
    assert silent_server.connected.wait(60), process.communicate()
    code, stderr = interrupted(process)
    assert (code, stderr) == (130, "error: interrupted\n")


def test_ctrl_c_while_vc_wallet_add_waits_on_the_network(world: World, silent_server: SilentServer, tmp_path):
    path = write(tmp_path / "c.json", credential(f"https://127.0.0.1:{silent_server.port}/status/1"))
    home = tmp_path / "wallet"
    Wallet.create(home, WALLET_PASS)
    process = start("vc-wallet", ["add", path, "--allow-host", f"127.0.0.1:{silent_server.port}"], tmp_path,
                    env={"TRADEVC_WALLET_HOME": str(home), "TRADEVC_WALLET_PASSPHRASE": WALLET_PASS})
    assert silent_server.connected.wait(60), process.communicate()
    code, stderr = interrupted(process)
    assert (code, stderr) == (130, "error: interrupted\n")


def test_ctrl_c_while_vc_verify_presentation_reads_its_file(world: World, tmp_path):
    fifo = tmp_path / "vp.json"
    os.mkfifo(fifo)
    process = start("vc-verify", ["presentation", str(fifo), "--trust", world.policy, "--challenge", "c",
                                  "--domain", "d", "--offline"], tmp_path)
    writer = wait_for_reader(fifo, process)
    try:
        code, stderr = interrupted(process)
    finally:
        os.close(writer)
    assert (code, stderr) == (130, "error: interrupted\n")


def test_ctrl_c_while_vc_issuer_issue_reads_its_subject(world: World, tmp_path):
    fifo = tmp_path / "subject.json"
    os.mkfifo(fifo)
    process = start("vc-issuer", ["--home", str(world.issuer_home), "issue", "--type", MTR, "--subject", str(fifo)],
                    tmp_path, env={"TRADEVC_ISSUER_PASSPHRASE": PASS})
    writer = wait_for_reader(fifo, process)
    try:
        code, stderr = interrupted(process)
    finally:
        os.close(writer)
    assert (code, stderr) == (130, "error: interrupted\n")
    with Issuer.open(world.issuer_home, PASS.encode()) as issuer:
        assert issuer.issued() == []
