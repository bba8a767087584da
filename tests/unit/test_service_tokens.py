"""The service's bearer tokens, checked by the TokenService itself: a token whose signature
was checked once is remembered (a client sends the same token request after request, and
jwcrypto's parsing and HMAC cost about as much as the rest of the framework's work on a
request), but what is remembered is only that exact string's claims: expiry, issuer, client
and scopes are still checked each time, a changed token is checked afresh, and the memory is
bounded."""

from __future__ import annotations

from tradevc.service.auth import CHECKED_TOKENS, TokenService
from tradevc.service.config import ClientConfig

CLIENTS = (ClientConfig("customs", b"s" * 16, frozenset({"verify"})),)
KEY = b"k" * 48


class Clock:
    def __init__(self, now: float = 1_800_000_000) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_token_checked_before_still_expires():
    clock = Clock()
    tokens = TokenService(CLIENTS, lifetime=600, key=KEY, clock=clock)
    token = tokens.issue("customs", frozenset({"verify"}))
    assert tokens.check(token) is not None and tokens.check(token) is not None
    clock.now += 600
    assert tokens.check(token) is None


def test_a_changed_token_is_checked_afresh():
    tokens = TokenService(CLIENTS, lifetime=600, key=KEY, clock=Clock())
    token = tokens.issue("customs", frozenset({"verify"}))
    assert tokens.check(token) is not None
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert tokens.check(f"{head}.{payload}.{flipped}") is None
    assert tokens.check(f"{head}.{payload}.{signature}x") is None
    assert tokens.check(token + " ") is None


def test_a_token_of_another_key_is_refused_though_the_same_claims_were_checked():
    clock = Clock()
    ours = TokenService(CLIENTS, lifetime=600, key=KEY, clock=clock)
    theirs = TokenService(CLIENTS, lifetime=600, key=b"another key of at least 32 bytes!!", clock=clock)
    assert ours.check(ours.issue("customs", frozenset({"verify"}))) is not None
    assert ours.check(theirs.issue("customs", frozenset({"verify"}))) is None


def test_the_remembered_tokens_are_bounded():
    tokens = TokenService(CLIENTS, lifetime=600, key=KEY, clock=Clock())
    issued = [tokens.issue("customs", frozenset({"verify"})) for _ in range(CHECKED_TOKENS + 10)]
    assert all(tokens.check(t) is not None for t in issued)
    assert tokens.remembered() == CHECKED_TOKENS
    assert tokens.check(issued[0]) is not None  # forgotten, so checked again: still good
