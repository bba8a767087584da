"""Serving another party's did:web documents and status lists from a mirror or a snapshot.

A :class:`Mirror` maps hosts to where their documents are read from instead: an HTTPS base
URL (``"mill.example" -> "https://127.0.0.1:8443/mill/"``: the document of
``https://mill.example/.well-known/did.json`` is then read from
``https://127.0.0.1:8443/mill/.well-known/did.json``), or a snapshot directory laid out as
``<host>/<path>`` (``snapshot/mill.example/.well-known/did.json``,
``snapshot/mill.example/status/1``), for a border post with no network.

The fetcher (:class:`tradevc.vc.retrieval.http.HttpsFetcher`) applies it, so DID documents and status list
credentials both go through it. A mirror changes where bytes come from, never what is
accepted: the DID document must still be the DID's, a status list must still be signed by
the credential's issuer, a mirror URL must be https (with the session's certificate checks),
redirects are refused, and the size and time limits apply. A host that is not mapped is
fetched as without a mirror. The hosts of the mirror URLs are configured by the operator,
not named by a credential: the fetcher allows them (loopback or private addresses
included) for what it reads from the mirror, and for nothing else (see
:mod:`tradevc.vc.retrieval.netguard`).

The mapping file (``Mirror.from_file``) is JSON::

    {
      "hosts": {"mill.example": "https://127.0.0.1:8443/mill/"},
      "snapshots": ["border-snapshot"]
    }

``hosts`` maps a host (``host`` or ``host:port``, as in the URL) to an https base URL;
``snapshots`` lists snapshot directories (relative paths are relative to the file), each
serving the hosts it has a directory for. A host in ``hosts`` wins; then the snapshots, in
order.

A mirror may also hold copies of single documents in memory (``held``: URL -> :class:`Held`,
the exact bytes and when they were fetched from their own host), e.g. those of a trust pack
(:mod:`tradevc.verifier.pack`); an exact URL held wins over everything else. They are checked
like any other bytes; ``held_in`` names where they come from in reports.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tradevc.vc.errors import NotUtf8Error
from tradevc.vc.jsontext import decode_text

__all__ = ["Mirror", "Origin", "MirrorPathError", "Held"]

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_KEY = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")


class MirrorPathError(ValueError):
    """A URL of a mirrored host whose path cannot be mapped safely (a ``.`` or ``..``
    segment, an encoded ``/``, a query for a snapshot...), or a snapshot file that escapes
    its directory: nothing is read for it."""


@dataclass(frozen=True)
class Origin:
    """Where the bytes of one URL are read from: ``kind`` is ``"mirror"`` (``location`` is
    an https URL), ``"snapshot"`` (``location`` is a file path) or ``"held"`` (a copy held in
    memory; ``location`` says whose, e.g. ``trust pack "laredo" version 7``)."""

    kind: str
    location: str

    def __str__(self) -> str:
        return self.location if self.kind == "held" else f"{self.kind} {self.location}"


@dataclass(frozen=True)
class Held:
    """A copy of one document held in memory: its exact ``body`` and when it was fetched from
    its own host (``fetched_at``, aware; None if unknown)."""

    body: bytes
    fetched_at: datetime | None = None


def host_key(host: str) -> str:
    """A mapping key in its normal form: lower case, ``:443`` dropped.

    :raises ValueError: not a domain name with an optional port.
    """
    if not isinstance(host, str) or not _HOST_KEY.match(host):
        raise ValueError(f"{host!r} is not a host name (host or host:port)")
    name, _, port = host.lower().partition(":")
    if port and not 0 < int(port) < 65536:
        raise ValueError(f"{host!r} has an invalid port")
    return name if port in ("", "443") else f"{name}:{int(port)}"


def _mirror_base(host: str, url: Any) -> str:
    if not isinstance(url, str):
        raise ValueError(f"the mirror of {host} must be an https URL, not {url!r}")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the mirror of {host} must be an https URL, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"the mirror URL of {host} must have no query, fragment or user: {url!r}")
    return url if url.endswith("/") else url + "/"


class Mirror:
    """Where the documents of some hosts are read from instead of the hosts themselves.

    ``hosts`` maps ``host`` or ``host:port`` to an https base URL; ``snapshots`` are
    directories laid out as ``<host>/<path>`` (``<host>:<port>`` for a URL with a port).

    ``held`` maps exact https URLs to copies held in memory (:class:`Held`), which win over
    ``hosts`` and ``snapshots``; ``held_in`` names them in reports (``"trust pack ..."``).

    :raises ValueError: a host is not a host name, a mirror URL is not https or has a query,
        a snapshot is not a directory, or a held URL is not https.
    """

    def __init__(
        self, hosts: Mapping[str, str] | None = None, snapshots: Iterable[str | os.PathLike[str]] = (),
        *, held: Mapping[str, Held] | None = None, held_in: str = "held copies",
    ) -> None:
        self._held: dict[str, Held] = {}
        for url, copy in (held or {}).items():
            if not isinstance(url, str) or urlsplit(url).scheme != "https" or not isinstance(copy, Held):
                raise ValueError(f"a held copy needs an https URL and a Held, not {url!r}")
            self._held[url] = copy
        self._held_in = held_in
        self._hosts = {host_key(host): _mirror_base(host, url) for host, url in (hosts or {}).items()}
        self._snapshots = []
        for directory in snapshots:
            path = Path(directory)
            if not path.is_dir():
                raise ValueError(f"snapshot {directory} is not a directory")
            self._snapshots.append(path.resolve())

    @classmethod
    def from_json(cls, data: Any, *, base: str | os.PathLike[str] = ".") -> "Mirror":
        """A mirror from the parsed mapping file (see the module's documentation); relative
        snapshot paths are relative to ``base``.

        :raises ValueError: the data is not a mapping file, or as :class:`Mirror`.
        """
        if not isinstance(data, dict) or not data or set(data) - {"hosts", "snapshots"}:
            raise ValueError('a mirror file is a JSON object with "hosts" and/or "snapshots" (and nothing else)')
        hosts = data.get("hosts", {})
        snapshots = data.get("snapshots", [])
        if not isinstance(hosts, dict):
            raise ValueError('"hosts" must be an object mapping each host to an https URL')
        if not isinstance(snapshots, list) or not all(isinstance(s, str) and s for s in snapshots):
            raise ValueError('"snapshots" must be a list of directory paths')
        return cls(hosts, [Path(base) / s for s in snapshots])

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "Mirror":
        """A mirror from a JSON mapping file.

        :raises OSError: the file cannot be read. :raises ValueError: it is not JSON, or as
            :meth:`from_json`.
        """
        try:
            text = decode_text(Path(path).read_bytes())  # UTF-8, with or without a byte order mark
        except NotUtf8Error as e:
            raise ValueError(e.message) from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise ValueError(f"{path} is not JSON: {e}") from None
        return cls.from_json(data, base=Path(path).parent)

    @property
    def hosts(self) -> dict[str, str]:
        """The mapped hosts and their mirror base URLs."""
        return dict(self._hosts)

    @property
    def held_in(self) -> str:
        """What the held copies are called in reports."""
        return self._held_in

    def held(self, url: str) -> Held | None:
        """The copy held for exactly ``url``, or None."""
        return self._held.get(url)

    @property
    def held_urls(self) -> frozenset[str]:
        """The URLs of the copies held."""
        return frozenset(self._held)

    @property
    def snapshots(self) -> list[Path]:
        """The snapshot directories (resolved), in the order they are looked in."""
        return list(self._snapshots)

    def __repr__(self) -> str:
        held = f", held={len(self._held)} in {self._held_in!r}" if self._held else ""
        return f"Mirror(hosts={self._hosts!r}, snapshots={[str(s) for s in self._snapshots]!r}{held})"

    @property
    def uses_network(self) -> bool:
        """True if some host is mapped to an https mirror (not only to snapshots)."""
        return bool(self._hosts)

    def merged(self, other: "Mirror") -> "Mirror":
        """This mirror's mappings, then ``other``'s for the hosts this one does not map."""
        merged = Mirror(held_in=self._held_in if self._held else other._held_in)
        merged._held = {**other._held, **self._held}
        merged._hosts = {**other._hosts, **self._hosts}
        merged._snapshots = self._snapshots + [s for s in other._snapshots if s not in self._snapshots]
        return merged

    def origin(self, url: str) -> Origin | None:
        """Where ``url`` (an https URL) is read from, or None if its host is not mapped.

        :raises MirrorPathError: the host is mapped but the URL's path cannot be mapped safely.
        """
        if url in self._held:
            return Origin("held", self._held_in)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            return None
        hostname = parts.hostname[:-1] if parts.hostname.endswith(".") else parts.hostname  # the same host
        try:
            key = host_key(hostname + (f":{parts.port}" if parts.port is not None else ""))
        except ValueError:
            return None  # an IP address or something stranger: not a host one can map
        base = self._hosts.get(key)
        if base is not None:
            _segments(parts.path, url, trailing_slash=True)  # only checked: the URL keeps its encoding
            return Origin("mirror", base + parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else ""))
        for snapshot in self._snapshots:
            host_dir = snapshot / key
            try:
                is_dir = host_dir.is_dir()
            except OSError as e:  # a host name too long for a file name (253 characters fit)...
                raise MirrorPathError(f"{url}: cannot look for {key} in snapshot {snapshot}: {e.strerror or e}") from None
            if is_dir:
                if parts.query:
                    raise MirrorPathError(f"{url} has a query; a snapshot holds files by path only")
                segments = _segments(parts.path, url, trailing_slash=False)
                if not segments:
                    raise MirrorPathError(f"{url} names no file")
                return Origin("snapshot", str(host_dir.joinpath(*segments)))
        return None

    def read_snapshot(self, origin: Origin, max_bytes: int) -> bytes:
        """The bytes of a snapshot file (an :class:`Origin` of kind ``"snapshot"`` this mirror
        gave), at most ``max_bytes`` of them.

        :raises MirrorPathError: the file (through a link, say) lies outside its snapshot.
        :raises OSError: it cannot be read, or is not a regular file.
        :raises OverflowError: it is larger than ``max_bytes``.
        """
        path = Path(origin.location)
        try:
            real = path.resolve()
        except RuntimeError as e:  # a loop of links, before Python 3.13 (which raises OSError)
            raise OSError(errno.ELOOP, str(e)) from None
        if not any(real.is_relative_to(s) for s in self._snapshots if path.is_relative_to(s)):
            raise MirrorPathError(f"{path} leads outside its snapshot directory")
        if not stat.S_ISREG(real.stat().st_mode):  # not a directory, a FIFO, a device...
            raise IsADirectoryError(f"{path} is not a regular file")
        with open(real, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise OverflowError(f"{path} is {size} bytes, over the {max_bytes}-byte limit")
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise OverflowError(f"{path} is over the {max_bytes}-byte limit")
        return data


def _segments(path: str, url: str, *, trailing_slash: bool) -> list[str]:
    """The decoded segments of a URL path, refusing any that could leave the mapped prefix
    or directory: ``.``, ``..``, empty ones inside the path, and encoded ``/`` or ``\\``; and
    those with a NUL or a lone surrogate, which no file name holds.
    A final ``/`` is allowed only with ``trailing_slash`` (a file has no such name)."""
    raw = path.lstrip("/").split("/") if path.strip("/") else []
    if raw and raw[-1] == "":
        if not trailing_slash:
            raise MirrorPathError(f"{url} names a directory, not a document")
        raw.pop()
    segments = []
    for segment in raw:
        decoded = unquote(segment)
        if decoded in ("", ".", "..") or any(c in "/\\\x00" or "\ud800" <= c <= "\udfff" for c in decoded):
            raise MirrorPathError(f"{url}: path segment {segment!r} cannot be mapped to a mirror")
        segments.append(decoded)
    return segments
