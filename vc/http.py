"""Fetching JSON over HTTPS for DID documents and status lists, defensively.

One fetcher serves every network read of the verifier (did:web documents, status list
credentials). It refuses anything but ``https``, follows no redirects (a redirect to another
host is the classic way around an allow-list), caps the size of what it reads, and applies a
timeout. Certificate checks come from the ``requests.Session`` passed in; nothing here ever
turns them off, so tests hand in a session that trusts their throwaway CA.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import ResolutionError

__all__ = ["HttpsFetcher", "RetrievalError", "DEFAULT_TIMEOUT", "DEFAULT_MAX_BYTES"]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1024 * 1024


class RetrievalError(ResolutionError):
    """A document could not be fetched (network, HTTP status, size, not JSON): the check that
    needed it could not be carried out, which is not the same as "invalid"."""

    code = "RETRIEVAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        """The HTTP status code of the response that was refused, if that was the reason."""


class HttpsFetcher:
    """GETs JSON documents over HTTPS through the given session."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_bytes = max_bytes

    def get_json(self, url: str, *, what: str) -> Any:
        """The JSON document at ``url``.

        :raises RetrievalError: not https, a redirect, an HTTP error, a timeout, a body over
            ``max_bytes``, or not JSON. The message names ``what`` and the URL.
        """
        return _json(self._get(url, what=what, accept=JSON_TYPES), url, what)

    def get_json_or_jws(self, url: str, *, what: str) -> Any:
        """The JSON document at ``url``, or the compact JWS it serves (a ``vc+jwt``
        credential, say), as a string. A JWS is told from JSON by its form, whatever the
        ``Content-Type``; nothing is verified here.

        :raises RetrievalError: as :meth:`get_json`; or a body that is neither JSON nor a JWS.
        """
        body = self._get(url, what=what, accept=f"{JSON_TYPES}, application/vc+jwt, application/jwt")
        if body.lstrip()[:1] not in (b"{", b"["):
            from .jose import is_compact_jws  # late: vc.jose builds on the verification modules

            try:
                text = body.decode("ascii").strip()
            except UnicodeDecodeError:
                text = ""
            if is_compact_jws(text):
                return text
        return _json(body, url, what)

    def _get(self, url: str, *, what: str, accept: str) -> bytes:
        if urlsplit(url).scheme != "https":
            raise RetrievalError(f"{what}: only https URLs are fetched, not {url!r}")
        try:
            with self.session.get(
                url, timeout=self.timeout, allow_redirects=False, stream=True,
                verify=self.session.verify,  # the session's trust roots, not REQUESTS_CA_BUNDLE's
                headers={"Accept": accept},
            ) as response:
                if 300 <= response.status_code < 400:
                    target = response.headers.get("Location", "?")
                    raise RetrievalError(
                        f"{what}: {url} redirects to {target}; redirects are not followed", status=response.status_code
                    )
                if response.status_code != 200:
                    raise RetrievalError(f"{what}: {url} answered HTTP {response.status_code}", status=response.status_code)
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise RetrievalError(f"{what}: {url} is {declared} bytes, over the {self.max_bytes}-byte limit")
                body = bytearray()
                for chunk in response.iter_content(chunk_size=65536):
                    body.extend(chunk)
                    if len(body) > self.max_bytes:
                        raise RetrievalError(f"{what}: {url} is over the {self.max_bytes}-byte limit")
        except requests.exceptions.Timeout as e:
            raise RetrievalError(f"{what}: {url} did not answer within {self.timeout} s") from e
        except requests.exceptions.SSLError as e:
            raise RetrievalError(f"{what}: TLS certificate check failed for {url}") from e
        except requests.exceptions.RequestException as e:
            raise RetrievalError(f"{what}: cannot fetch {url}: {type(e).__name__}") from e
        return bytes(body)


JSON_TYPES = "application/json, application/did+json, application/ld+json"
"""What a JSON fetch accepts (DID documents, credentials)."""


def _json(body: bytes, url: str, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise RetrievalError(f"{what}: {url} did not return JSON") from e
