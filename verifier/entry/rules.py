"""The entry rule set: rules as data, in force over date ranges, configured per policy.

Each rule has an ``id`` (``usmca.certification.covers-line``), a plain ``description``, the
legal or policy ``source`` it implements, the ranges it is in force (``inForce``: ``from``
inclusive, ``until`` exclusive, ISO dates), the ``decision`` it asks for when it finds
something (ACCEPT for information, REVIEW, REJECT), optionally an ``hsScope`` (HTS prefixes,
the name of a scope of the table such as ``"steel"``, or a list of such names) and ``countries``
(of origin) it is limited to, a ``note`` (what of it could not be confirmed from a source, and
other caveats), ``params`` (thresholds), ``appliesTo`` (``"line"``, the default: a finding decides
on the goods; ``"preference"``: it decides on the line's preference claim only, see
:class:`~tradevc.verifier.entry.report.LineReport`), and what evaluates it: ``check``, the name
of a rule implemented in code (:mod:`tradevc.verifier.entry.checks`), or ``when``, a CEL expression.
Rules are evaluated on the entry's date of import, so an old entry is judged by the rules of
its day. The default table is ``rules.json`` next to this module.

A policy (the trust policy file customs already uses) configures them with an ``entryRules``
member::

    "entryRules": {
      "steel.mill-certificate.present": {"enabled": false},
      "sima.licence.matches": {"tolerance": 0.02, "decision": "REVIEW"},
      "steel.melt-pour.declared": {"hsScope": ["7304", "7306"], "inForce": [{"from": "2024-11-21"}]},
      "expressions": [{"id": "policy.high-value-pipe", "when": "line.hts.startsWith('7304') && line.value > 500000.0",
                       "decision": "REVIEW", "message": "pipe over USD 500,000: documents to the import specialist",
                       "source": "port directive 2025-04"}],
      "listedEntities": [{"list": "UFLPA Entity List", "name": "Xinjiang Example Steel Co.",
                          "identifiers": ["MID CNXINSTE88URU"], "dids": ["did:web:xinjiang-steel.example"]}]
    }

A CEL expression sees ``entry`` (the declaration as JSON, dates as ``YYYY-MM-DD`` strings),
``line`` (the line as JSON with ``quantityKg`` as a double, ``value`` as a double, ``hs6`` and
``chapter``), ``documents`` (the line's credentials: ``id``, ``type``, ``issuer``,
``verified``) and ``heats`` (``number``, ``meltCountry``, ``weightKg``); it is compiled once,
when the policy is read, and a bad one is a :class:`RuleError` naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from celpy import Environment
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.celtypes import BoolType
from celpy.evaluation import CELEvalError

from tradevc.vc.errors import NotUtf8Error
from tradevc.vc.jsontext import decode_text

from .model import Line
from .report import Decision

__all__ = [
    "DEFAULT_TABLE", "Expression", "InForce", "ListedEntity", "Rule", "RuleError", "RuleSet", "cel_value",
    "compile_expression",
]

DEFAULT_TABLE = Path(__file__).with_name("rules.json")
_RULE_MEMBERS = {"id", "check", "when", "message", "level", "description", "source", "note", "inForce", "decision",
                 "hsScope", "countries", "params", "enabled", "appliesTo"}
_CONFIG_MEMBERS = {"enabled", "decision", "hsScope", "countries", "inForce", "appliesTo"}
TARGETS = ("line", "preference")
_RESERVED = {"expressions", "listedEntities"}


class RuleError(ValueError):
    """A rule table or a policy's ``entryRules`` that cannot be used; the message names the member."""


@dataclass(frozen=True)
class InForce:
    """``start`` inclusive, ``until`` exclusive; None is open."""

    start: date | None = None
    until: date | None = None

    def covers(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.until is None or day < self.until)

    def to_dict(self) -> dict[str, str | None]:
        return {"from": self.start.isoformat() if self.start else None,
                "until": self.until.isoformat() if self.until else None}


@dataclass(frozen=True)
class Expression:
    """A compiled CEL expression and its text."""

    text: str
    program: Any = field(compare=False, repr=False)

    def evaluate(self, activation: Mapping[str, Any]) -> bool:
        """Evaluate on JSON-like values (converted with :func:`cel_value`).

        :raises RuleError: it could not be evaluated, or did not give a boolean."""
        return self.evaluate_converted({k: cel_value(v) for k, v in activation.items()})

    def evaluate_converted(self, activation: Mapping[str, Any]) -> bool:
        """Evaluate on values already converted with :func:`cel_value`: a caller that evaluates
        many expressions on one entry converts what they share once (CEL changes no value).

        :raises RuleError: it could not be evaluated, or did not give a boolean."""
        try:
            value = self.program.evaluate(dict(activation))
        except CELEvalError as e:
            raise RuleError(f"cannot evaluate {self.text!r}: {e.args[0] if e.args else e}") from None
        if isinstance(value, CELEvalError):
            raise RuleError(f"cannot evaluate {self.text!r}: {value.args[0] if value.args else value}")
        if not isinstance(value, BoolType):
            raise RuleError(f"{self.text!r} gave {type(value).__name__}, not a boolean")
        return bool(value)


@dataclass(frozen=True)
class ListedEntity:
    """An entry of a list the policy provides (e.g. the UFLPA Entity List): matched by DID,
    identifier (``MID ...`` or the bare value) or name."""

    list: str
    name: str | None
    identifiers: frozenset[str]
    dids: frozenset[str]

    def label(self) -> str:
        return f"{self.name or ', '.join(sorted(self.identifiers | self.dids))} ({self.list})"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    source: str
    decision: Decision
    check: str | None = None
    expression: Expression | None = None
    message: str | None = None
    level: str = "line"  # "line" | "entry"
    in_force: tuple[InForce, ...] = (InForce(),)
    hs_scope: tuple[str, ...] | None = None
    countries: frozenset[str] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    target: str = "line"  # what its findings decide on: "line" (the goods) or "preference" (the claim)
    note: str = ""  # what of its scope, dates or citation could not be confirmed, and other caveats

    def in_force_on(self, day: date) -> bool:
        return any(r.covers(day) for r in self.in_force)

    def applies_to(self, line: Line) -> bool:
        if self.hs_scope is not None and not line.hts.startswith(self.hs_scope):  # any of the prefixes
            return False
        return self.countries is None or line.country_of_origin in self.countries

    def param(self, name: str) -> Any:
        """:raises KeyError: the rule has no such parameter (a table error)."""
        return self.params[name]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "description": self.description, "source": self.source, "decision": self.decision.value,
            "level": self.level, "inForce": [r.to_dict() for r in self.in_force], "enabled": self.enabled,
            "appliesTo": self.target,
        }
        if self.note:
            out["note"] = self.note
        if self.check:
            out["check"] = self.check
        if self.expression:
            out["when"] = self.expression.text
        if self.hs_scope is not None:
            out["hsScope"] = list(self.hs_scope)
        if self.countries is not None:
            out["countries"] = sorted(self.countries)
        if self.params:
            out["params"] = dict(self.params)
        return out


@dataclass(frozen=True)
class RuleSet:
    """The rules, in table order, and the policy's listed entities."""

    rules: tuple[Rule, ...]
    listed: tuple[ListedEntity, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        """:raises KeyError: no such rule."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def in_force(self, day: date, level: str = "line") -> list[Rule]:
        """The enabled rules of ``level`` in force on ``day``."""
        return [r for r in self.rules if r.enabled and r.level == level and r.in_force_on(day)]

    @classmethod
    def default(cls) -> "RuleSet":
        """The shipped table (steel and pipe). :raises RuleError: it is broken (a packaging bug)."""
        return cls.from_table(_read(DEFAULT_TABLE, "the default rule table"), source="the default rule table")

    @classmethod
    def from_table(cls, data: Any, *, source: str = "the rule table") -> "RuleSet":
        """A rule table: ``{"version": 1, "scopes": {name: [prefixes]}, "rules": [...]}``.

        :raises RuleError: a malformed member (the message names it).
        """
        if not isinstance(data, Mapping) or data.get("version") != 1 or not isinstance(data.get("rules"), list):
            raise RuleError(f'{source}: must be {{"version": 1, "rules": [...]}}')
        scopes = data.get("scopes", {})
        if not isinstance(scopes, Mapping):
            raise RuleError(f"{source}: scopes: must be an object of name: [HTS prefixes]")
        named = {str(k): _prefixes(v, f"{source}: scopes.{k}") for k, v in scopes.items()}
        rules: list[Rule] = []
        for i, item in enumerate(data["rules"]):
            rule = _rule(item, f"{source}: rules[{i}]", named)
            if any(r.id == rule.id for r in rules):
                raise RuleError(f"{source}: rules[{i}]: id {rule.id!r} appears twice")
            rules.append(rule)
        return cls(tuple(rules))

    def configured(self, config: Any, *, source: str = "entryRules") -> "RuleSet":
        """This rule set with a policy's ``entryRules`` applied (see the module docstring).

        :raises RuleError: an unknown rule id or member, a bad value, an expression that does
            not compile (the message names it).
        """
        if config is None:
            return self
        if not isinstance(config, Mapping):
            raise RuleError(f"{source}: must be an object of rule id: settings")
        rules = list(self.rules)
        index = {r.id: i for i, r in enumerate(rules)}
        for rule_id, settings in config.items():
            if rule_id in _RESERVED:
                continue
            where = f"{source}.{rule_id}"
            if rule_id not in index:
                raise RuleError(f"{where}: no such rule (known: {', '.join(sorted(index))})")
            rule = rules[index[rule_id]]
            if not isinstance(settings, Mapping):
                raise RuleError(f"{where}: must be an object")
            changes: dict[str, Any] = {}
            params = dict(rule.params)
            for member, value in settings.items():
                if member == "enabled":
                    if not isinstance(value, bool):
                        raise RuleError(f"{where}.enabled: must be true or false")
                    changes["enabled"] = value
                elif member == "decision":
                    changes["decision"] = _decision(value, f"{where}.decision")
                elif member == "hsScope":
                    changes["hs_scope"] = _prefixes(value, f"{where}.hsScope")
                elif member == "countries":
                    changes["countries"] = _countries(value, f"{where}.countries")
                elif member == "inForce":
                    changes["in_force"] = _ranges(value, f"{where}.inForce")
                elif member == "appliesTo":
                    changes["target"] = _target(value, f"{where}.appliesTo")
                elif member in params:
                    params[member] = _like(value, params[member], f"{where}.{member}")
                else:
                    known = sorted(_CONFIG_MEMBERS | set(params))
                    raise RuleError(f"{where}.{member}: unknown setting (known: {', '.join(known)})")
            rules[index[rule_id]] = replace(rule, params=params, **changes)
        expressions = config.get("expressions", [])
        if not isinstance(expressions, list):
            raise RuleError(f"{source}.expressions: must be a list")
        for i, item in enumerate(expressions):
            where = f"{source}.expressions[{i}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("when"), str):
                raise RuleError(f"{where}: needs an id and a CEL expression in 'when'")
            rule = _rule({"description": item.get("message", ""), "source": "policy expression", **item}, where, {})
            if rule.id in index or any(r.id == rule.id for r in rules):
                raise RuleError(f"{where}: id {rule.id!r} is already a rule")
            rules.append(rule)
        listed = config.get("listedEntities", [])
        if not isinstance(listed, list):
            raise RuleError(f"{source}.listedEntities: must be a list")
        entities = tuple(_entity(item, f"{source}.listedEntities[{i}]") for i, item in enumerate(listed))
        return RuleSet(tuple(rules), self.listed + entities)

    @classmethod
    def from_policy(cls, document: Any, *, source: str = "the policy") -> "RuleSet":
        """The default rules configured by a policy document's ``entryRules`` (if any).

        :raises RuleError: as :meth:`configured`.
        """
        config = document.get("entryRules") if isinstance(document, Mapping) else None
        return cls.default().configured(config, source=f"{source}: entryRules")

    @classmethod
    def from_policy_file(cls, path: str | Path) -> "RuleSet":
        """:raises OSError: unreadable. :raises RuleError: not JSON, or a bad ``entryRules``."""
        path = Path(path)
        return cls.from_policy(_read(path, path.name), source=path.name)


# -- parsing ---------------------------------------------------------------------------------------


_ENV = Environment()


def compile_expression(text: str, where: str) -> Expression:
    """:raises RuleError: it does not parse (the message names ``where``)."""
    try:
        ast = _ENV.compile(text)
        program = _ENV.program(ast)
    except CELParseError as e:
        first = str(e).splitlines()[0] if str(e) else "syntax error"
        raise RuleError(f"{where}.when: not a CEL expression: {first}") from None
    return Expression(text, program)


def cel_value(value: Any) -> Any:
    """JSON-like Python data as CEL values (Decimals as doubles, dates as ISO strings)."""
    return json_to_cel(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _read(path: Path, name: str) -> Any:
    try:
        return json.loads(decode_text(path.read_bytes()))  # UTF-8, with or without a byte order mark
    except NotUtf8Error as e:
        raise RuleError(f"{name}: {e.message}") from None
    except json.JSONDecodeError as e:
        raise RuleError(f"{name}: not JSON: {e.msg} (line {e.lineno})") from None


def _rule(item: Any, where: str, scopes: Mapping[str, tuple[str, ...]]) -> Rule:
    if not isinstance(item, Mapping):
        raise RuleError(f"{where}: must be an object")
    unknown = set(item) - _RULE_MEMBERS
    if unknown:
        raise RuleError(f"{where}: unknown member(s) {', '.join(sorted(unknown))}")
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not rule_id or any(c.isspace() for c in rule_id):
        raise RuleError(f"{where}.id: must be a non-empty string without spaces")
    where = f"{where} ({rule_id})"
    check, when = item.get("check"), item.get("when")
    if (check is None) == (when is None):
        raise RuleError(f"{where}: needs either 'check' (a rule in code) or 'when' (a CEL expression)")
    for member in ("description", "source", "note"):
        if not isinstance(item.get(member, ""), str):
            raise RuleError(f"{where}.{member}: must be a string")
    level = item.get("level", "line")
    if level not in ("line", "entry"):
        raise RuleError(f"{where}.level: must be 'line' or 'entry'")
    scope = item.get("hsScope")
    if isinstance(scope, str) and scope in scopes:
        hs_scope: tuple[str, ...] | None = scopes[scope]
    elif isinstance(scope, list) and scope and all(isinstance(v, str) and v in scopes for v in scope):
        hs_scope = tuple(p for name in scope for p in scopes[name])  # a union of named scopes
    else:
        hs_scope = None if scope is None else _prefixes(scope, f"{where}.hsScope")
    params = item.get("params", {})
    if not isinstance(params, Mapping):
        raise RuleError(f"{where}.params: must be an object")
    message = item.get("message")
    if message is not None and not isinstance(message, str):
        raise RuleError(f"{where}.message: must be a string")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError(f"{where}.enabled: must be true or false")
    return Rule(
        id=rule_id, description=str(item.get("description", "")), source=str(item.get("source", "")),
        decision=_decision(item.get("decision"), f"{where}.decision"),
        check=check if isinstance(check, str) else None,
        expression=compile_expression(when, where) if isinstance(when, str) else None,
        message=message, level=level,
        in_force=_ranges(item["inForce"], f"{where}.inForce") if "inForce" in item else (InForce(),),
        hs_scope=hs_scope,
        countries=_countries(item["countries"], f"{where}.countries") if "countries" in item else None,
        note=str(item.get("note", "")), params=dict(params), enabled=enabled, target=_target(item.get("appliesTo", "line"), f"{where}.appliesTo"),
    )


def _decision(value: Any, where: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise RuleError(f"{where}: must be ACCEPT, REVIEW or REJECT, got {value!r}") from None


def _target(value: Any, where: str) -> str:
    if value not in TARGETS:
        raise RuleError(f"{where}: must be 'line' or 'preference', got {value!r}")
    return str(value)


def _prefixes(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
        isinstance(v, str) and v.replace(".", "").isdigit() and 2 <= len(v.replace(".", "")) <= 10 for v in value
    ):
        raise RuleError(f"{where}: must be a non-empty list of HTS prefixes (2 to 10 digits)")
    return tuple(v.replace(".", "") for v in value)


def _countries(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(
        isinstance(v, str) and len(v) == 2 and v.isalpha() and v.isupper() for v in value
    ):
        raise RuleError(f"{where}: must be a non-empty list of ISO country codes")
    return frozenset(value)


def _day(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _raise()
    except ValueError:
        raise RuleError(f"{where}: must be an ISO date (YYYY-MM-DD) or null, got {value!r}") from None


def _raise() -> date:
    raise ValueError


def _ranges(value: Any, where: str) -> tuple[InForce, ...]:
    if not isinstance(value, list) or not value:
        raise RuleError(f"{where}: must be a non-empty list of {{\"from\", \"until\"}}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) - {"from", "until"}:
            raise RuleError(f"{where}[{i}]: must be {{\"from\": date, \"until\": date}} (either may be omitted)")
        start, until = _day(item.get("from"), f"{where}[{i}].from"), _day(item.get("until"), f"{where}[{i}].until")
        if start and until and until <= start:
            raise RuleError(f"{where}[{i}]: until must be after from")
        out.append(InForce(start, until))
    return tuple(out)


def _like(value: Any, default: Any, where: str) -> Any:
    """A parameter value of the default's kind (number, list, string, boolean)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise RuleError(f"{where}: must be like the default {default!r}, got {value!r}")
    return value


def _entity(item: Any, where: str) -> ListedEntity:
    if not isinstance(item, Mapping) or not isinstance(item.get("list"), str):
        raise RuleError(f"{where}: needs 'list' (the list's name) and a name, identifiers or dids")
    unknown = set(item) - {"list", "name", "identifiers", "dids"}
    if unknown:
        raise RuleError(f"{where}: unknown member(s) {', '.join(sorted(unknown))}")
    name = item.get("name")
    ids, dids = item.get("identifiers", []), item.get("dids", [])
    if (name is not None and not isinstance(name, str)) or not isinstance(ids, list) or not isinstance(dids, list) \
            or not all(isinstance(v, str) for v in [*ids, *dids]) or not (name or ids or dids):
        raise RuleError(f"{where}: name is a string, identifiers and dids lists of strings; give at least one")
    return ListedEntity(item["list"], name, frozenset(ids), frozenset(dids))

