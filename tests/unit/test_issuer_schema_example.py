"""``vc-issuer schema TYPE`` prints the shipped JSON Schema of a trade type, byte for byte, and
``vc-issuer example TYPE`` its example subject (what issuer/examples/ holds), which
``vc-issuer issue`` accepts as it is."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import ROOT
from tradevc.issuer.cli import cli
from tradevc.issuer.credential_types import load_example, type_names


def index() -> dict[str, str]:
    entries = json.loads((ROOT / "contexts" / "schemas" / "index.json").read_text(encoding="utf-8"))["schemas"]
    return {e["credentialType"]: e["file"] for e in entries}


@pytest.mark.parametrize("type_name", type_names())
def test_schema_prints_the_shipped_file(type_name):
    result = CliRunner().invoke(cli, ["schema", type_name])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (ROOT / "contexts" / "schemas" / index()[type_name]).read_bytes()


def test_schema_takes_a_short_name():
    result = CliRunner().invoke(cli, ["schema", "IdentityAnchor"])
    assert result.exit_code == 0
    assert json.loads(result.output)["$id"] == "https://tradevc.example/schemas/v1/identity-anchor.json"


@pytest.mark.parametrize("command", ["schema", "example"])
def test_an_unknown_type_is_one_line_exit_2(command):
    result = CliRunner().invoke(cli, [command, "CommercialInvoice"])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "CommercialInvoiceCredential" in lines[0]


@pytest.mark.parametrize("type_name", type_names())
def test_example_prints_the_example_subject(type_name):
    result = CliRunner().invoke(cli, ["example", type_name])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == load_example(type_name)


def test_schema_list_names_every_type_and_its_url():
    result = CliRunner().invoke(cli, ["schema", "--list"])
    assert result.exit_code == 0
    for type_name in type_names():
        assert type_name in result.output
    assert "https://tradevc.example/schemas/v1/usmca-certification-of-origin.json" in result.output
