"""Entry verification: customs decides on an entry (lines of goods, an importer, the origin
and preference claimed) from the credentials of a verified presentation.

- :mod:`.model`: the entry declaration (pydantic, with a JSON Schema);
- :mod:`.facts`: what the credentials say, with evidence (credential id, JSON pointer, value);
- :mod:`.report`: decisions (ACCEPT, REVIEW, REJECT) per line and for the entry, findings;
- :mod:`.drawing`: each line's supply path drawn from melt and pour to the line (text, SVG);
- :mod:`.rules`: the rule table (data with effective-date ranges) and its policy configuration;
- :mod:`.checks`: the rules implemented in code;
- :mod:`.engine`: :func:`verify_entry`.
"""

from .engine import verify_entry
from .model import Entry, EntryError, Line, Party, read_entry
from .report import Decision, EntryReport, Finding, LineReport
from .rules import Rule, RuleError, RuleSet

__all__ = [
    "Decision", "Entry", "EntryError", "EntryReport", "Finding", "Line", "LineReport", "Party", "Rule", "RuleError",
    "RuleSet", "read_entry", "verify_entry",
]
