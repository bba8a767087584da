"""Errors as RFC 9457 problem details (``application/problem+json``).

Each kind of problem has a ``type`` URI of its own (``urn:tradevc:problem:...``), so a client
tells them apart without reading the prose:

- ``not-verified`` (422): the document was checked and is not valid; ``codes`` lists the
  report's codes (``REVOKED``, ``PROOF_VERIFICATION_ERROR``...), ``errors`` the checks that
  failed.
- ``could-not-verify`` (503): a check could not be carried out (an issuer's DID document or
  status list could not be fetched...) and none found the document invalid; trying again
  later may succeed.
- ``bad-request`` (400), ``unauthorized`` (401), ``forbidden`` (403), ``not-found`` (404),
  ``conflict`` (409), ``too-large`` (413), ``unsupported-media-type`` (415),
  ``too-many-requests`` (429, with ``Retry-After``),
  ``internal`` (500, with the request id to find in the server's log).
- ``deadline`` (503, with ``Retry-After``): the request was still running at its deadline
  (``[listen] request_timeout_seconds``); ``busy`` (503, with ``Retry-After``): the server
  runs the most requests it runs at once (``[listen] max_concurrent_requests``).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import orjson
from starlette.responses import Response

__all__ = ["PROBLEM_JSON", "Problem", "json_bytes", "problem_body", "problem_type"]

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
    422: ("not-verified", "Not verified"),
    500: ("internal", "Internal server error"),
    503: ("could-not-verify", "Could not verify"),
}


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON: orjson's writer (a verification report in a few
    microseconds), the standard library's for what orjson does not write (an integer past
    64 bits; a lone surrogate, which a refused document may hold, escaped as ``\\udXXX``)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def problem_type(name: str) -> str:
    return f"urn:tradevc:problem:{name}"


class Problem(Exception):
    """An error answered as problem details: ``status``, ``detail`` and ``extra`` members;
    ``kind`` and ``title`` default to those of the status; ``headers`` go on the response."""

    def __init__(
        self, status: int, detail: str, *, kind: str | None = None, title: str | None = None,
        extra: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        default_kind, default_title = _TITLES.get(status, ("error", "Error"))
        self.status = status
        self.detail = detail
        self.kind = kind or default_kind
        self.title = title or default_title
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self, request_id: str | None) -> bytes:
        return problem_body(self.status, self.detail, kind=self.kind, title=self.title, extra=self.extra,
                            request_id=request_id)

    def response(self, request_id: str | None) -> Response:
        """The answer: the problem's status, ``application/problem+json``, its headers."""
        return Response(self.body(request_id), status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers)


def problem_body(
    status: int, detail: str, *, kind: str | None = None, title: str | None = None,
    extra: Mapping[str, Any] | None = None, request_id: str | None = None,
) -> bytes:
    """The JSON of a problem: ``type``, ``title``, ``status``, ``detail``, then ``extra`` and ``requestId``."""
    default_kind, default_title = _TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": problem_type(kind or default_kind), "title": title or default_title, "status": status,
        "detail": detail,
    }
    body.update(extra or {})
    if request_id is not None:
        body["requestId"] = request_id
    return json_bytes(body)
