"""The service's configuration: a TOML file (read with :mod:`tomllib`).

Relative paths are taken from the folder of the file. Secrets are never values in the file
or on the command line: an issuer's key passphrase comes from a file, a client's secret from
a file or an environment variable, both named here. Every member is checked when the file is
read; a mistake is a :class:`ConfigError` naming the member, before anything listens.

.. code-block:: toml

    [listen]
    host = "127.0.0.1"          # default; plain HTTP on loopback, behind a proxy that does TLS
    port = 8080                 # default 8080 (8443 with TLS)
    # tls_cert = "cert.pem"     # or serve HTTPS itself: a certificate chain and its key (PEM)
    # tls_key = "key.pem"
    # max_body_bytes = 1048576  # a larger request body is refused (413)
    # request_timeout_seconds = 30  # a request still running then is answered 503 (deadline, with
    #                           # Retry-After); issuing and status changes are not cut off once they
    #                           # have begun; each network fetch of a verification is bounded by it too
    # max_concurrent_requests = 40  # more at once are refused at once, 503 (busy, Retry-After 1),
    #                           # never queued; /healthz, /readyz and the issuers' did.json and
    #                           # status lists never are
    # plain_http_beyond_loopback = false  # plain HTTP on another address (a container behind
    #                           # its proxy) only when set: tokens and secrets travel in clear
    # workers = 1               # worker processes on the one listening socket (1 to 64; the
    #                           # command line's --workers overrides it): see service/workers.py

    [tokens]
    # lifetime_seconds = 600    # bearer tokens from POST /token live this long
    # key_file = "token.key"    # HMAC key of the tokens (>= 32 bytes); default: a new one per start
    # failures_per_ip = "10/minute"  # failed client authentications at POST /token, per IP address

    [verifier]
    trust = "trust-policy.json" # the trust policy, as vc-verify --trust reads it
    # challenges = "challenges.sqlite"   # the one-time challenges of POST /challenges (default:
    #                           # in memory; with several workers, a file of their private folder)
    # ca_bundle = "ca.pem"      # certificate authorities for did:web and status lists
    # allow_hosts = ["localhost:8443"]   # non-public hosts it may fetch from
    # offline = false

    [ledger]                    # the quantity ledger of POST /entries/verify (optional)
    url = "sqlite:///ledger.sqlite"      # or a path, or postgresql://user@host/db

    [records]                   # what the service keeps: received presentation ids, entry reports
    # file = "records.sqlite"   # an SQLite file; default: the [ledger] database (tables service_*),
    #                           # and without [ledger] only memory (bounded, lost on restart: a warning)
    # entry_report_days = 400   # GET /entries/{id} answers this long (customs keeps its records)
    # presentation_days = 30    # a presentation id its holder sent is a 409 again this long
    # memory_limit = 10000      # in memory: at most this many reports, and this many ids

    [issuers.mill]
    home = "mill"               # the issuer home (vc-issuer --home)
    passphrase_file = "mill.passphrase"

    [clients.erp]
    secret_file = "erp.secret"  # or secret_env = "ERP_CLIENT_SECRET"
    scopes = ["issue", "status"]
    issuers = ["mill"]          # the issuers it may issue for and change the status of; required
    #                           # with the issue or status scope when two or more issuers are
    #                           # configured (with one, it defaults to that one)
    # rate = "100/minute"       # its requests (after authentication); default: no limit
    # burst = 100               # at most this many at once (default: the rate's count)

    [clients.prometheus]
    secret_file = "prometheus.secret"
    scopes = ["metrics"]        # GET /metrics
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradevc.vc.retrieval.netguard import is_loopback_host

__all__ = [
    "SCOPES", "ClientConfig", "RecordsConfig", "DEFAULT_MAX_CONCURRENT", "DEFAULT_REQUEST_TIMEOUT", "DEFAULT_TOKEN_FAILURES",
    "Rate", "ConfigError", "IssuerConfig", "ServiceConfig", "VerifierConfig", "load_config", "MIN_SECRET_LENGTH",
    "MIN_TOKEN_KEY_BYTES", "MAX_WORKERS",
]

SCOPES = ("issue", "status", "verify", "entries", "metrics")
"""What a client may be allowed: issue credentials, change their status, verify, decide on entries, read the metrics."""
MIN_SECRET_LENGTH = 16
"""A client secret shorter than this is refused."""
MIN_TOKEN_KEY_BYTES = 32
DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_TOKEN_LIFETIME = 600
MAX_WORKERS = 64
"""The most worker processes ``[listen] workers`` (or ``--workers``) may ask for."""
DEFAULT_REQUEST_TIMEOUT = 30.0
"""Seconds a request may run before it is answered 503 (``[listen] request_timeout_seconds``)."""
DEFAULT_MAX_CONCURRENT = 40
"""Requests at once (``[listen] max_concurrent_requests``): as many as the thread pool the
endpoints run their work on has threads (AnyIO's default, 40), so an admitted request never
waits for a thread behind others."""
_RATE = re.compile(r"^\s*([1-9][0-9]{0,8})\s*/\s*(second|minute|hour)\s*$")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ConfigError(Exception):
    """The configuration cannot be used; ``message`` says which member and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IssuerConfig:
    name: str
    home: Path
    passphrase: bytes = field(repr=False)


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``period`` seconds, at most ``burst`` at once (a token bucket)."""

    count: int
    period: int
    burst: int

    @property
    def per_second(self) -> float:
        return self.count / self.period


DEFAULT_TOKEN_FAILURES = Rate(10, 60, 10)


@dataclass(frozen=True)
class ClientConfig:
    client_id: str
    secret: bytes = field(repr=False)
    scopes: frozenset[str]
    rate: Rate | None = None
    issuers: frozenset[str] = frozenset()
    """The issuers it may act for with the issue and status scopes."""


@dataclass(frozen=True)
class RecordsConfig:
    """``[records]``: where the received presentation ids and entry reports are kept (a path,
    ``sqlite:///`` or ``postgresql://`` URL; None: in memory) and for how long."""

    location: str | None = None
    entry_report_days: int = 400
    presentation_days: int = 30
    memory_limit: int = 10_000


@dataclass(frozen=True)
class VerifierConfig:
    trust: Path
    challenges: Path | None = None
    ca_bundle: Path | None = None
    allow_hosts: tuple[str, ...] = ()
    offline: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    token_key: bytes | None = field(default=None, repr=False)
    token_failures: Rate = DEFAULT_TOKEN_FAILURES
    verifier: VerifierConfig | None = None
    issuers: tuple[IssuerConfig, ...] = ()
    clients: tuple[ClientConfig, ...] = ()
    ledger: str | None = None
    records: RecordsConfig = field(default_factory=RecordsConfig)
    workers: int = 1


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}{key}: must be a table")
    return value


def _only(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key in ("passphrase", "secret"):
            raise ConfigError(f"{where}{key}: secrets are never written in the configuration; "
                              f"use {key}_file" + (" or secret_env" if key == "secret" else ""))
        if key not in allowed:
            raise ConfigError(f"{where}{key}: unknown member (known: {', '.join(allowed)})")


def _str(table: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}{key}: required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}{key}: must be a non-empty string")
    return value


def _path(base: Path, table: dict[str, Any], key: str, where: str, *, required: bool = False,
          exists: bool = True) -> Path | None:
    value = _str(table, key, where, required=required)
    if value is None:
        return None
    path = (base / Path(value).expanduser()).resolve()
    if exists and not path.exists():
        raise ConfigError(f"{where}{key}: {value} does not exist")
    return path


def _int(table: dict[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}{key}: must be a whole number from {low} to {high}")
    return value


def _seconds(table: dict[str, Any], key: str, where: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"{where}{key}: must be a number of seconds from {low:g} to {high:g}")
    return float(value)


def _rate(table: dict[str, Any], key: str, where: str, *, burst_key: str | None = None) -> Rate | None:
    value = table.get(key)
    if value is None:
        if burst_key is not None and burst_key in table:
            raise ConfigError(f"{where}{burst_key}: give {key} too")
        return None
    match = _RATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f'{where}{key}: must be "COUNT/second", "COUNT/minute" or "COUNT/hour", e.g. "100/minute"')
    count = int(match.group(1))
    burst = _int(table, burst_key, where, count, 1, 1_000_000_000) if burst_key is not None else count
    return Rate(count, _PERIODS[match.group(2)], burst)


def _read_secret(path: Path, what: str) -> bytes:
    try:
        value = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{what}: cannot read {path}: {e.strerror}") from None
    return value.rstrip(b"\r\n")


def _ledger_url(base: Path, url: str) -> str:
    """``url`` with an SQLite file's relative path taken from the configuration's folder."""
    lower = url.lower()
    if lower.startswith(("postgresql://", "postgres://")):
        return url
    if lower.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if not path.startswith("/") or path == "/":
            raise ConfigError("ledger.url: an SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
        return "sqlite:///" + str(base / path[1:])  # base is absolute: sqlite:////...
    if "://" in url:
        raise ConfigError("ledger.url: a file path, sqlite:///path or postgresql://user@host:port/database")
    return str(base / Path(url).expanduser())


def _client_issuers(table: dict[str, Any], where: str, scopes: frozenset[str], names: list[str]) -> frozenset[str]:
    """The issuers a client may act for (``issuers``). Without the member: the one issuer when
    only one is configured; with two or more, a client with the issue or status scope must
    name them (a multi-issuer server never lets one issuer's client act for all by default)."""
    acts = scopes & {"issue", "status"}
    value = table.get("issuers")
    if value is None:
        if acts and len(names) > 1:
            raise ConfigError(f"{where}issuers: required with the {' and '.join(sorted(acts))} scope when several "
                              f"issuers are configured: list those it may act for (of {', '.join(names)})")
        return frozenset(names) if acts else frozenset()
    if not isinstance(value, list) or not value or not all(isinstance(n, str) for n in value):
        raise ConfigError(f"{where}issuers: a non-empty list of issuer names (of {', '.join(names) or 'none'})")
    if not acts:
        raise ConfigError(f"{where}issuers: only for a client with the issue or status scope")
    unknown = [n for n in value if n not in names]
    if unknown:
        raise ConfigError(f"{where}issuers: no issuer {unknown[0]!r} is configured "
                          f"(configured: {', '.join(names) or 'none'})")
    return frozenset(value)


def load_config(path: str | os.PathLike[str]) -> ServiceConfig:
    """The configuration in the TOML file ``path``, with its secrets read.

    :raises ConfigError: the file cannot be read, is not TOML, or a member is wrong.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {file}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not TOML: {e}") from None
    base = file.resolve().parent
    _only(data, ("listen", "tokens", "verifier", "issuers", "clients", "ledger", "records"), "")

    listen = _table(data, "listen", "")
    _only(listen, ("host", "port", "tls_cert", "tls_key", "max_body_bytes", "plain_http_beyond_loopback", "workers",
                   "request_timeout_seconds", "max_concurrent_requests"), "listen.")
    tls_cert = _path(base, listen, "tls_cert", "listen.")
    tls_key = _path(base, listen, "tls_key", "listen.")
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("listen: give both tls_cert and tls_key, or neither")
    host = _str(listen, "host", "listen.") or "127.0.0.1"
    beyond = listen.get("plain_http_beyond_loopback", False)
    if not isinstance(beyond, bool):
        raise ConfigError("listen.plain_http_beyond_loopback: must be true or false")
    if tls_cert is None and not is_loopback_host(host) and not beyond:
        raise ConfigError(
            f"listen.host: {host} is not a loopback address, and without tls_cert/tls_key bearer tokens and client "
            "secrets would cross the network in clear; give tls_cert and tls_key, or set "
            "plain_http_beyond_loopback = true if a proxy on this machine or in this container does TLS"
        )
    port = _int(listen, "port", "listen.", 8443 if tls_cert else 8080, 0, 65535)
    max_body = _int(listen, "max_body_bytes", "listen.", DEFAULT_MAX_BODY, 1024, 64 * 1024 * 1024)
    workers = _int(listen, "workers", "listen.", 1, 1, MAX_WORKERS)
    request_timeout = _seconds(listen, "request_timeout_seconds", "listen.", DEFAULT_REQUEST_TIMEOUT, 1, 3600)
    max_concurrent = _int(listen, "max_concurrent_requests", "listen.", DEFAULT_MAX_CONCURRENT, 1, 100_000)

    tokens = _table(data, "tokens", "")
    _only(tokens, ("lifetime_seconds", "key_file", "failures_per_ip"), "tokens.")
    token_failures = _rate(tokens, "failures_per_ip", "tokens.") or DEFAULT_TOKEN_FAILURES
    lifetime = _int(tokens, "lifetime_seconds", "tokens.", DEFAULT_TOKEN_LIFETIME, 1, 3600)
    key_path = _path(base, tokens, "key_file", "tokens.")
    token_key = None
    if key_path is not None:
        token_key = _read_secret(key_path, "tokens.key_file")
        if len(token_key) < MIN_TOKEN_KEY_BYTES:
            raise ConfigError(f"tokens.key_file: the key must have at least {MIN_TOKEN_KEY_BYTES} bytes")

    verifier = None
    if "verifier" in data:
        table = _table(data, "verifier", "")
        _only(table, ("trust", "challenges", "ca_bundle", "allow_hosts", "offline"), "verifier.")
        trust = _path(base, table, "trust", "verifier.", required=True)
        assert trust is not None
        allow = table.get("allow_hosts", [])
        if not isinstance(allow, list) or not all(isinstance(h, str) and h for h in allow):
            raise ConfigError("verifier.allow_hosts: must be a list of HOST or HOST:PORT strings")
        offline = table.get("offline", False)
        if not isinstance(offline, bool):
            raise ConfigError("verifier.offline: must be true or false")
        verifier = VerifierConfig(
            trust=trust, challenges=_path(base, table, "challenges", "verifier.", exists=False),
            ca_bundle=_path(base, table, "ca_bundle", "verifier."), allow_hosts=tuple(allow), offline=offline,
        )

    ledger = None
    if "ledger" in data:
        table = _table(data, "ledger", "")
        _only(table, ("url",), "ledger.")
        ledger = _ledger_url(base, _str(table, "url", "ledger.", required=True) or "")

    table = _table(data, "records", "")
    _only(table, ("file", "entry_report_days", "presentation_days", "memory_limit"), "records.")
    records_file = _path(base, table, "file", "records.", exists=False)
    if records_file is not None and not records_file.parent.is_dir():
        raise ConfigError(f"records.file: the folder {records_file.parent} does not exist")
    records = RecordsConfig(
        location=str(records_file) if records_file is not None else ledger,
        entry_report_days=_int(table, "entry_report_days", "records.", 400, 1, 36_500),
        presentation_days=_int(table, "presentation_days", "records.", 30, 1, 36_500),
        memory_limit=_int(table, "memory_limit", "records.", 10_000, 1, 10_000_000),
    )

    issuers = []
    for name, table in _table(data, "issuers", "").items():
        where = f"issuers.{name}."
        if not _NAME.match(name):
            raise ConfigError(f"issuers.{name}: a name is letters, digits, '.', '_' and '-' (at most 64)")
        if not isinstance(table, dict):
            raise ConfigError(f"issuers.{name}: must be a table")
        _only(table, ("home", "passphrase_file"), where)
        home = _path(base, table, "home", where, required=True)
        secret = _path(base, table, "passphrase_file", where, required=True)
        assert home is not None and secret is not None
        passphrase = _read_secret(secret, f"{where}passphrase_file")
        if not passphrase:
            raise ConfigError(f"{where}passphrase_file: the file is empty")
        issuers.append(IssuerConfig(name, home, passphrase))

    clients = []
    for client_id, table in _table(data, "clients", "").items():
        where = f"clients.{client_id}."
        if not _NAME.match(client_id):
            raise ConfigError(f"clients.{client_id}: a client id is letters, digits, '.', '_' and '-' (at most 64)")
        if not isinstance(table, dict):
            raise ConfigError(f"clients.{client_id}: must be a table")
        _only(table, ("secret_file", "secret_env", "scopes", "rate", "burst", "issuers"), where)
        if ("secret_file" in table) == ("secret_env" in table):
            raise ConfigError(f"{where[:-1]}: give exactly one of secret_file or secret_env")
        if "secret_file" in table:
            secret_path = _path(base, table, "secret_file", where)
            assert secret_path is not None
            value = _read_secret(secret_path, f"{where}secret_file")
        else:
            variable = _str(table, "secret_env", where, required=True)
            assert variable is not None
            if variable not in os.environ:
                raise ConfigError(f"{where}secret_env: the environment variable {variable} is not set")
            value = os.environ[variable].encode("utf-8")
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{where[:-1]}: the secret must have at least {MIN_SECRET_LENGTH} characters")
        scopes = table.get("scopes")
        if not isinstance(scopes, list) or not scopes or not all(s in SCOPES for s in scopes):
            raise ConfigError(f"{where}scopes: a non-empty list of {', '.join(SCOPES)}")
        clients.append(ClientConfig(client_id, value, frozenset(scopes), _rate(table, "rate", where, burst_key="burst"),
                                    _client_issuers(table, where, frozenset(scopes), [i.name for i in issuers])))

    if not issuers and verifier is None:
        raise ConfigError("nothing to serve: configure [issuers.NAME] or [verifier]")
    return ServiceConfig(
        host=host, port=port, tls_cert=tls_cert, tls_key=tls_key, max_body_bytes=max_body, token_lifetime=lifetime,
        request_timeout=request_timeout, max_concurrent=max_concurrent,
        token_key=token_key, token_failures=token_failures, verifier=verifier, issuers=tuple(issuers), clients=tuple(clients),
        ledger=ledger, records=records, workers=workers,
    )
