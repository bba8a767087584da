"""Status types are found by the entry's type, one module each; nothing else is accepted."""

from __future__ import annotations

import sys
import types

import pytest

from tradevc.vc.retrieval import status_types
from tradevc.vc.retrieval.status_types import StatusType, status_type


def test_the_two_shipped_status_types():
    bitstring = status_type("BitstringStatusListEntry")
    assert bitstring == StatusType("BitstringStatusListEntry", "BitstringStatusListCredential", "BitstringStatusList")
    assert not bitstring.multibase_prefix_optional
    legacy = status_type("StatusList2021Entry")
    assert legacy.credential_type == "StatusList2021Credential" and legacy.multibase_prefix_optional


@pytest.mark.parametrize("entry_type", [
    None, 7, "", "bitstringStatusListEntry", "Bitstring.StatusListEntry", "../os", "StatusType", "RevocationList2020Status",
])
def test_anything_else_is_no_status_type(entry_type):
    assert status_type(entry_type) is None


def test_adding_a_status_type_is_adding_a_module(monkeypatch):
    name = f"{status_types.__name__}.terse_bitstring_status_list_entry"
    module = types.ModuleType(name)
    module.STATUS_TYPE = StatusType("TerseBitstringStatusListEntry", "BitstringStatusListCredential", "BitstringStatusList")
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(status_types, "_CACHE", {})
    assert status_type("TerseBitstringStatusListEntry") is module.STATUS_TYPE


def test_a_module_must_define_the_type_it_is_named_for(monkeypatch):
    name = f"{status_types.__name__}.odd_status_entry"
    module = types.ModuleType(name)
    module.STATUS_TYPE = StatusType("BitstringStatusListEntry", "X", "Y")  # named for another type
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(status_types, "_CACHE", {})
    assert status_type("OddStatusEntry") is None
