"""Shared test helpers: vector loading and a few ready-made credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).parent / "vectors"
ROOT = Path(__file__).parent.parent


def load_vector(relative: str) -> Any:
    """Parse a JSON vector file under tests/vectors/."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def read_vector(relative: str) -> str:
    """Read a text vector file under tests/vectors/, exactly as stored."""
    return (VECTORS / relative).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def reference_credential() -> dict[str, Any]:
    """The reference USMCA certification of origin used by the benchmark."""
    return json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text(encoding="utf-8"))
