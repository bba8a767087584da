"""OAuth 2.0 client credentials (RFC 6749 section 4.4) and bearer tokens (RFC 6750).

Authlib, the usual library for an OAuth server in Python, integrates its server side with
Flask and Django only; it has no asynchronous server, so it does not fit FastAPI without a
request adapter of our own. The client credentials grant is small, so it is written here
after the RFCs, and the tokens are JWTs made and checked with jwcrypto (already a dependency):

- ``POST /token`` takes ``grant_type=client_credentials`` and an optional ``scope`` (a subset
  of the client's scopes; default all of them), form-encoded. The client authenticates with
  HTTP Basic (``client_secret_basic``, the id and secret form-URL-encoded first, RFC 6749
  2.3.1) or with ``client_id`` and ``client_secret`` in the body (``client_secret_post``),
  not both. Secrets are compared in constant time.
- An access token is an HS256 JWT (``iss``, ``sub`` the client id, ``scope``, ``iat``,
  ``exp``, ``jti``) under the service's key: valid until ``exp`` (no leeway), only for a
  client still configured, and only for the scopes that client still has.
- Errors are the JSON of RFC 6749 5.2 (``invalid_request``, ``invalid_client`` with 401 and
  ``WWW-Authenticate: Basic``, ``unsupported_grant_type``, ``invalid_scope``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, unquote_plus

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException

from .config import ClientConfig, MIN_TOKEN_KEY_BYTES, SCOPES

__all__ = ["CHECKED_TOKENS", "TOKEN_ISSUER", "OAuthError", "TokenService", "Grant"]

TOKEN_ISSUER = "tradevc-serve"
CHECKED_TOKENS = 1024
"""How many tokens whose signature was checked are remembered (their claims, the oldest
forgotten first): a client sends the same token request after request, and parsing it and
checking its HMAC with jwcrypto costs about 0.1 ms a request."""
REALM = "tradevc"


class OAuthError(Exception):
    """An error of the token endpoint (RFC 6749 5.2): ``error``, ``description``, the HTTP
    ``status`` and headers."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if status == 401:
            self.headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'

    def body(self) -> bytes:
        return json.dumps({"error": self.error, "error_description": self.description}).encode("utf-8")


@dataclass(frozen=True)
class Grant:
    """What a valid bearer token grants: the client, its scopes and the issuers it may act
    for (with the issue and status scopes; read from the configuration, not the token)."""

    client_id: str
    scopes: frozenset[str]
    issuers: frozenset[str] = frozenset()


class TokenService:
    """Issues and checks the bearer tokens of ``clients``. ``key`` is the HMAC key (default:
    random, so tokens do not outlive the process); ``clock`` returns Unix seconds."""

    def __init__(
        self, clients: tuple[ClientConfig, ...], *, lifetime: int, key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clients = {c.client_id: c for c in clients}
        self.lifetime = lifetime
        raw = key if key is not None else secrets.token_bytes(MIN_TOKEN_KEY_BYTES)
        self._key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii"))
        self._clock = clock
        self._checked: OrderedDict[str, tuple[Grant | None, int]] = OrderedDict()
        self._checked_lock = threading.Lock()

    # -- the token endpoint ------------------------------------------------------------------

    def token_response(self, body: bytes, content_type: str | None, authorization: str | None,
                       gate: Callable[[str], None] | None = None) -> dict[str, Any]:
        """The answer of ``POST /token`` to a request with ``body`` and these headers.
        ``gate`` is called with the client id the request claims before its secret is
        compared (to refuse a client id under attack from this address).

        :raises OAuthError: anything wrong, as RFC 6749 5.2 says.
        """
        if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_request", "the body is not form-encoded UTF-8") from None
        form: dict[str, str] = {}
        for name, value in pairs:
            if name in form:  # RFC 6749 3.2: parameters must not be included more than once
                raise OAuthError("invalid_request", f"the parameter {name} is given more than once")
            form[name] = value
        client = self._authenticate(form, authorization, gate)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is missing")
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
        asked = form.get("scope")
        if asked is None:
            scopes = client.scopes
        else:
            names = asked.split(" ")
            if not asked or "" in names or any(n not in SCOPES for n in names):
                raise OAuthError("invalid_scope", f"scope is a space-separated list of {', '.join(SCOPES)}")
            scopes = frozenset(names)
            if not scopes <= client.scopes:
                raise OAuthError("invalid_scope", f"this client may ask for {' '.join(sorted(client.scopes))} only")
        return {
            "access_token": self.issue(client.client_id, scopes),
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "scope": " ".join(sorted(scopes)),
        }

    def _authenticate(self, form: Mapping[str, str], authorization: str | None,
                      gate: Callable[[str], None] | None = None) -> ClientConfig:
        in_body = "client_id" in form or "client_secret" in form
        basic = authorization is not None and authorization[:6].lower() == "basic "
        if authorization is not None and not basic:
            raise OAuthError("invalid_client", "client authentication is HTTP Basic or in the body", status=401)
        if basic and in_body:
            raise OAuthError("invalid_request", "authenticate with HTTP Basic or in the body, not both")
        if basic:
            assert authorization is not None
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "the Basic credentials are not base64 of UTF-8", status=401) from None
            raw_id, colon, raw_secret = decoded.partition(":")
            if not colon:
                raise OAuthError("invalid_client", "the Basic credentials have no ':'", status=401)
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            # RFC 6749 2.3.1 form-encodes both first; a client that did not (curl -u does not)
            # is accepted too (client ids are letters, digits and '._-': the same either way)
            candidates = [secret, raw_secret]
        elif in_body:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            candidates = [secret]
        else:
            raise OAuthError("invalid_client", "no client authentication", status=401)
        if gate is not None:
            gate(client_id)
        client = self._clients.get(client_id)
        # compare even for an unknown client, so the time taken does not tell which ids exist
        expected = client.secret if client is not None else secrets.token_bytes(32)
        matched = [hmac.compare_digest(c.encode("utf-8"), expected) for c in candidates]
        if not any(matched) or client is None:
            raise OAuthError("invalid_client", "unknown client or wrong secret", status=401)
        return client

    # -- tokens ------------------------------------------------------------------------------

    def issue(self, client_id: str, scopes: frozenset[str]) -> str:
        now = int(self._clock())
        claims = {
            "iss": TOKEN_ISSUER, "sub": client_id, "scope": " ".join(sorted(scopes)), "iat": now,
            "exp": now + self.lifetime, "jti": str(uuid.uuid4()),
        }
        token = jwt.JWT(header={"alg": "HS256", "typ": "at+jwt"}, claims=claims)
        token.make_signed_token(self._key)
        return str(token.serialize())

    def _signed_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of ``token`` if it is an HS256 JWS under our key whose payload is a JSON object."""
        try:
            verified = jws.JWS()
            verified.deserialize(token)
            if verified.jose_header.get("alg") != "HS256":
                return None
            verified.verify(self._key, alg="HS256")
            claims = json.loads(verified.payload)
        except (JWException, ValueError, TypeError):
            return None
        return claims if isinstance(claims, dict) else None

    def remembered(self) -> int:
        """How many checked tokens are remembered now (at most :data:`CHECKED_TOKENS`)."""
        with self._checked_lock:
            return len(self._checked)

    def check(self, token: str) -> Grant | None:
        """The grant of a bearer ``token``, or None if it is not one this service issued, has
        expired, or names a client (or scopes) no longer configured. A token's signature and
        claims are checked once (the grant is remembered with its expiry, which is compared
        with the clock each time)."""
        if len(token) > 4096 or token.count(".") != 2:
            return None
        with self._checked_lock:
            known = self._checked.get(token)
            if known is not None:
                self._checked.move_to_end(token)
        if known is None:
            claims = self._signed_claims(token)
            if claims is None:
                return None
            known = self._grant_of(claims)
            with self._checked_lock:
                self._checked[token] = known
                while len(self._checked) > CHECKED_TOKENS:
                    self._checked.popitem(last=False)
        grant, expires = known
        return grant if grant is not None and expires > self._clock() else None

    def _grant_of(self, claims: dict[str, Any]) -> tuple[Grant | None, int]:
        """The grant the verified ``claims`` give, and when it expires (None: they give none)."""
        if claims.get("iss") != TOKEN_ISSUER:
            return None, 0
        exp, sub, scope = claims.get("exp"), claims.get("sub"), claims.get("scope")
        if not isinstance(exp, int) or isinstance(exp, bool):
            return None, 0
        client = self._clients.get(sub) if isinstance(sub, str) else None
        if client is None or not isinstance(scope, str):
            return None, 0
        return Grant(client.client_id, frozenset(scope.split(" ")) & client.scopes, client.issuers), exp
