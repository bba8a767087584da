"""Status types: what a ``credentialStatus`` entry of a given ``type`` points at, one small
module each, found by the entry's type (``BitstringStatusListEntry`` lives in
``bitstring_status_list_entry.py``, ``StatusList2021Entry`` in ``status_list2021_entry.py``).
Each defines ``STATUS_TYPE``, a :class:`StatusType`; adding a status type means adding a
file. The checking itself (fetch, verify through the function passed in, read the bit) is
:class:`tradevc.vc.retrieval.status_lists.StatusChecker`.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

__all__ = ["StatusType", "status_type"]


@dataclass(frozen=True)
class StatusType:
    """A status entry type and the list credential it points at."""

    entry_type: str
    """The entry's ``type``, e.g. ``BitstringStatusListEntry``."""
    credential_type: str
    """The ``type`` the list credential must have, e.g. ``BitstringStatusListCredential``."""
    subject_type: str
    """The ``type`` of the list credential's subject, e.g. ``BitstringStatusList``."""
    multibase_prefix_optional: bool = False
    """True if the ``encodedList`` may lack its multibase ``u`` (StatusList2021 had none)."""


_ENTRY_TYPE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CACHE: dict[str, StatusType | None] = {}


def _module_name(entry_type: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", entry_type).lower()


def status_type(entry_type: object) -> StatusType | None:
    """The status type of an entry's ``type``, or None if this library has none for it."""
    if not isinstance(entry_type, str) or not _ENTRY_TYPE.match(entry_type):
        return None
    if entry_type not in _CACHE:
        try:
            module = importlib.import_module(f"{__name__}.{_module_name(entry_type)}")
        except ModuleNotFoundError:
            found = None
        else:
            found = getattr(module, "STATUS_TYPE", None)
            if not isinstance(found, StatusType) or found.entry_type != entry_type:
                found = None
        _CACHE[entry_type] = found
    return _CACHE[entry_type]
