"""Each request's deadline, and the point past which it no longer applies.

The guard (:class:`tradevc.service.app.Guard`) gives every request a :class:`Deadline`. A
request still running when it passes is answered at once with a 503 problem
(``urn:tradevc:problem:deadline``, with ``Retry-After``); the work itself cannot be stopped
(a thread of the pool may be inside a network read), so it goes on in the background with
its answer dropped, and it still counts against the concurrency cap until it ends.

That is harmless for a verification, but not for a request with a side effect: a credential
issued after its caller got a 503 is one the caller does not know about. So an endpoint with
a side effect calls :func:`commit` just before it: if the deadline has passed, the commit is
refused (the 503 problem, and the side effect never happens); otherwise the deadline no
longer applies to the request, which runs to its end and is answered as usual. Both run on
the event loop, so the guard's check and the commit cannot interleave.
"""

from __future__ import annotations

from typing import Any, MutableMapping

from starlette.requests import HTTPConnection

from .problems import Problem

__all__ = ["DEADLINE_RETRY_AFTER", "Deadline", "commit", "commit_scope", "deadline_problem"]

DEADLINE_RETRY_AFTER = 5
"""The ``Retry-After`` (seconds) of a request answered at its deadline."""


def deadline_problem(seconds: float) -> Problem:
    return Problem(503, f"the request did not finish within the deadline of {seconds:g} s; try again later",
                   kind="deadline", title="Deadline exceeded", headers={"Retry-After": str(DEADLINE_RETRY_AFTER)})


class Deadline:
    """The deadline of one request, of ``seconds``; ``expired`` once the guard answered 503,
    ``committed`` once the endpoint started a side effect in time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.committed = False

    def commit(self) -> None:
        """Start a side effect: the deadline no longer applies from here on.

        :raises Problem: the deadline has passed (the caller was answered 503): do nothing."""
        if self.expired:
            raise deadline_problem(self.seconds)
        self.committed = True


def commit_scope(scope: MutableMapping[str, Any]) -> None:
    """:meth:`Deadline.commit` of the request of ASGI ``scope`` (nothing without a deadline)."""
    deadline = scope.get("state", {}).get("deadline")
    if isinstance(deadline, Deadline):
        deadline.commit()


def commit(request: HTTPConnection) -> None:
    """:func:`commit_scope` of a Starlette ``request``."""
    commit_scope(request.scope)
