"""``vc-verify entry``: customs decides on an entry from the importer's presentation.

Prints ``ENTRY <number> importer <id> (anchored) ... decision: REJECT`` and a row per line
(HTSUS, description, quantity, origin, melt and pour declared, decision and reason), then each
line's findings with their rule, source and evidence, and a drawing of the line's supply path
from melt and pour to the line (``--no-path`` leaves the drawings out); ``--json`` prints the
:class:`~tradevc.verifier.entry.report.EntryReport` as JSON.

Exit status: 0 ACCEPT, 1 REJECT, 4 REVIEW, 2 usage error or bad input (a malformed entry: one
line per problem with its JSON path; a bad policy or rule setting), 3 could not decide (the
ledger could not be read or written). An entry whose documents could not be verified (an issuer
unreachable) is decided, as REVIEW.

The verifier is built from the options every ``vc-verify`` command takes (``--trust`` or
``--pack``/``--pack-signer``, ``--offline``, ``--ca-bundle``, ``--stale-status-if-error``,
``--schemas``, ``--compat``, ``--mirror``/``--mirror-file``/``--snapshot``, ``--allow-host``,
``--contexts``); the entry rules are configured by the policy's ``entryRules``, the trust
pack's when ``--pack`` is given. The command is made by :func:`entry_command` with the CLI's
decorator that adds those options and its function that builds the
:class:`~tradevc.verifier.Verifier` from them, so this module does not import ``cli``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, NoReturn

import click

from tradevc.clistyle import say_error
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import DEFAULT_LIMITS
from tradevc.vc.securing.jws import document_of_file

from .cli_evidence import LEDGER_ENV, evidence_archive, evidence_key_from_options, with_evidence_options, write_evidence
from .entry.model import EntryError, read_entry
from .entry.report import Decision
from .entry.rules import RuleError, RuleSet
from .ledger import LedgerError, open_ledger
from .pack import PackVerifier
from .evidence import with_evidence
from .service import Verifier

__all__ = ["EXIT_ACCEPT", "EXIT_COULD_NOT_DECIDE", "EXIT_REJECT", "EXIT_REVIEW", "EXIT_USAGE", "entry_command"]

EXIT_ACCEPT, EXIT_REJECT, EXIT_USAGE, EXIT_COULD_NOT_DECIDE, EXIT_REVIEW = 0, 1, 2, 3, 4
_EXIT = {Decision.ACCEPT: EXIT_ACCEPT, Decision.REJECT: EXIT_REJECT, Decision.REVIEW: EXIT_REVIEW}

VerifierFrom = Callable[..., Verifier]
WithOptions = Callable[[Any], Any]


def _fail(lines: list[str]) -> NoReturn:
    say_error("\n".join(lines))  # one "error: " line each, hidden characters escaped
    sys.exit(EXIT_USAGE)


_ASCII = str.maketrans({"┌": "+", "└": "+", "╔": "+", "╚": "+", "┬": "+", "─": "-", "═": "=", "│": "|", "║": "|",
                        "▼": "v", "▶": ">", "◀": "<", "…": "..."})


def _printable(text: str, encoding: str | None) -> str:
    """``text`` as the output stream can write it: a lone surrogate as ``\\udXXX``, and where
    the stream's encoding (latin-1, a Windows code page...) lacks the drawing's box characters,
    those as ASCII and anything else it lacks as a backslash escape."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    codec = encoding or "utf-8"
    try:
        text.encode(codec)
        return text
    except UnicodeEncodeError:
        pass
    except LookupError:
        codec = "ascii"
    return text.translate(_ASCII).encode(codec, "backslashreplace").decode(codec)


def entry_command(with_verifier_options: WithOptions, verifier_from: VerifierFrom) -> click.Command:
    """The ``entry`` command: ``with_verifier_options`` adds the options that build the
    verifier, ``verifier_from(**their values)`` builds it."""

    @click.command("entry")
    @click.argument("entry_file", metavar="ENTRY.json", type=click.Path(dir_okay=False))
    @click.argument("presentation_file", metavar="VP.json", type=click.Path(dir_okay=False, allow_dash=True))
    @with_verifier_options
    @click.option("--challenge", required=True, help="The challenge you gave the holder for this presentation.")
    @click.option("--domain", required=True, help="Your domain, as the holder bound the presentation to it.")
    @click.option("--ledger", "ledger_at", metavar="PATH_OR_URL",
                  help="The quantity ledger (an SQLite file, made if missing): draws of earlier entries are counted, "
                       "and this entry's are recorded unless it is rejected.")
    @click.option("--at", "at", metavar="ISO-TIME",
                  help="Verify the documents as of this time (an audit of an old entry); default now. Status lists "
                       "too: the version in effect then, where the issuer publishes its lists' history (the report "
                       "says which, or that the status is the current one). The rules are always those in force on "
                       "the entry's date of import.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @click.option("--no-path", "no_path", is_flag=True,
                  help="Leave the drawings of the lines' supply paths out of the text report (a big entry).")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False), metavar="FILE",
                  help="Also write the report as a self-contained HTML page to FILE.")
    @with_evidence_options
    def entry(entry_file: str, presentation_file: str, challenge: str, domain: str, ledger_at: str | None,
              at: str | None, as_json: bool, no_path: bool, report_path: str | None, evidence: str | None,
              evidence_home: str | None, evidence_passphrase_file: str | None, archive_dir: str | None,
              **options: Any) -> None:
        """Decide on the entry in ENTRY.json from the credentials of the presentation in VP.json:
        per line ACCEPT, REVIEW or REJECT with the reasons, and for the entry the worst of them.
        The trust policy (--trust, or the pack's) may configure the entry rules (entryRules, see
        the README). Exit status: 0 ACCEPT, 1 REJECT, 4 REVIEW, 2 usage error or bad input, 3 the
        ledger could not be used (or the pack is too old). --evidence OUT.json (with
        --evidence-home DIR) also writes the sealed evidence bundle of the decision; --archive DIR
        also keeps it in the evidence archive, indexed in --ledger (else $TRADEVC_LEDGER)."""
        key = evidence_key_from_options(evidence, evidence_home, evidence_passphrase_file)
        archive = evidence_archive(evidence, archive_dir, ledger_at or os.environ.get(LEDGER_ENV))
        try:
            declaration = read_entry(entry_file)
        except OSError as e:
            _fail([f"cannot read {entry_file}: {e.strerror}"])
        except EntryError as e:
            _fail([f"{entry_file}: {p}" for p in e.problems])
        trust: str | None = options.get("trust")
        now: datetime | None = None
        if at is not None:
            try:
                moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
            except ValueError:
                _fail([f"--at: not an ISO 8601 time: {at!r}"])
            now = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
        try:
            raw = sys.stdin.buffer.read() if presentation_file == "-" else Path(presentation_file).read_bytes()
        except OSError as e:
            _fail([f"cannot read {presentation_file}: {e.strerror}"])
        try:
            presentation = document_of_file(raw, limits=DEFAULT_LIMITS)
        except InvalidDocument as e:
            _fail([f"{presentation_file}: {e.message}"])
        verifier = verifier_from(**options)
        where = trust or "the trust pack"
        entry_rules: Any = None
        try:
            if isinstance(verifier, PackVerifier):
                rules = RuleSet.from_policy(verifier.pack.policy, source=verifier.pack.label())
                entry_rules = verifier.pack.policy.get("entryRules")
            else:
                assert trust is not None  # verifier_from refuses neither --trust nor --pack
                rules = RuleSet.from_policy_file(trust)
                if key is not None:
                    policy_document = json.loads(Path(trust).read_bytes())
                    entry_rules = policy_document.get("entryRules") if isinstance(policy_document, dict) else None
        except OSError as e:
            _fail([f"cannot read {trust}: {e.strerror}"])
        except ValueError as e:  # RuleError too
            _fail([f"{where}: {e}"])
        ledger: Any = None
        if ledger_at is not None:
            try:
                ledger = open_ledger(ledger_at)
            except (LedgerError, OSError, ValueError) as e:
                _fail([f"--ledger {ledger_at}: {e}"])
        bundle: dict[str, Any] | None = None
        try:
            if key is not None:
                report, bundle = with_evidence(verifier).verify_entry(
                    declaration, presentation, challenge=challenge, domain=domain, entry_rules=entry_rules,
                    ledger=ledger, now=now)
            else:
                report = verifier.verify_entry(declaration, presentation, challenge=challenge, domain=domain,
                                               rules=rules, ledger=ledger, now=now)
        except RuleError as e:
            _fail([f"{where}: {e}"])
        except LedgerError as e:
            click.echo(f"error: the ledger: {e}", err=True)
            sys.exit(EXIT_COULD_NOT_DECIDE)
        finally:
            if ledger is not None and hasattr(ledger, "close"):
                ledger.close()
        if bundle is not None and key is not None and evidence is not None:
            write_evidence(evidence, bundle, key, archive)
        if report_path is not None:
            try:
                Path(report_path).write_text(report.to_html(), encoding="utf-8")
            except OSError as e:
                click.echo(f"error: cannot write {report_path}: {e.strerror}", err=True)
        text = report.to_json() if as_json else report.summary(supply_paths=not no_path)
        click.echo(_printable(text, getattr(sys.stdout, "encoding", None)))
        sys.exit(_EXIT[report.decision])

    return entry

