"""What an expanded JSON-LD document names: the IRIs of its properties and types, so that a test
can check every term of a credential expands to a vocabulary IRI (none dropped, none relative)."""

from __future__ import annotations

from typing import Any


def expanded_iris(node: Any) -> set[str]:
    """The property and ``@type`` IRIs anywhere in ``node`` (expanded JSON-LD)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= expanded_iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type":
                found |= set(value if isinstance(value, list) else [value])
            elif not key.startswith("@"):
                found.add(key)
            if key != "@value":
                found |= expanded_iris(value)
    return found
