"""The users of ``make load`` (``bench/load_service.py`` runs locust headless on this file).

Set up by ``bench/load_service.py`` through the environment (never the command line, where the
bearer tokens would show in the process list):

- ``TRADEVC_LOAD_MIX``: ``verify`` (``POST /credentials/verify``), ``issue``
  (``POST /issuers/mill/credentials/issue``) or ``mixed`` (4 verifications to 1 issue);
- ``TRADEVC_LOAD_VERIFY_BODIES``: a file of request bodies, one JSON line each (distinct copies
  of the reference certificate), sent in turn;
- ``TRADEVC_LOAD_ISSUE_BODY``: a file with the body of an issue request whose credential id is
  ``TRADEVC_LOAD_ISSUE_ID`` (each request replaces it with a new one: an id is issued once);
- ``TRADEVC_LOAD_VERIFY_TOKEN``, ``TRADEVC_LOAD_ISSUE_TOKEN``: bearer tokens.

Each user sends its next request as soon as the answer came (no wait): the concurrency is the
number of users. An answer other than 200 (verify) or 201 (issue) is a failure; a 503 "busy"
(the server's concurrency cap refusing a request at once, by design) is a failure named
``busy (503)``, which ``bench/load_service.py`` counts apart from errors, and the user then
waits the ``Retry-After`` it was given, as a well-behaved client does.
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, task

BUSY = "urn:tradevc:problem:busy"

MIX = os.environ.get("TRADEVC_LOAD_MIX", "verify")
WEIGHTS = {"verify": (1, 0), "issue": (0, 1), "mixed": (4, 1)}[MIX]
_VERIFY_BODIES = [line.encode() for line in Path(os.environ["TRADEVC_LOAD_VERIFY_BODIES"]).read_text().splitlines()
                  if line.strip()]
_ISSUE_BODY = Path(os.environ["TRADEVC_LOAD_ISSUE_BODY"]).read_bytes()
_ISSUE_ID = os.environ["TRADEVC_LOAD_ISSUE_ID"].encode()
_VERIFY_HEADERS = {"Authorization": f"Bearer {os.environ['TRADEVC_LOAD_VERIFY_TOKEN']}",
                   "Content-Type": "application/json"}
_ISSUE_HEADERS = {"Authorization": f"Bearer {os.environ['TRADEVC_LOAD_ISSUE_TOKEN']}",
                  "Content-Type": "application/json"}


class ServiceUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        start = random.randrange(len(_VERIFY_BODIES))
        self.bodies = itertools.islice(itertools.cycle(_VERIFY_BODIES), start, None)

    @task(WEIGHTS[0])
    def verify(self) -> None:
        with self.client.post("/credentials/verify", data=next(self.bodies), headers=_VERIFY_HEADERS,
                              name="verify", catch_response=True) as answer:
            if answer.status_code != 200:
                _failed(answer)

    @task(WEIGHTS[1])
    def issue(self) -> None:
        body = _ISSUE_BODY.replace(_ISSUE_ID, f"urn:uuid:{uuid.uuid4()}".encode())
        with self.client.post("/issuers/mill/credentials/issue", data=body, headers=_ISSUE_HEADERS,
                              name="issue", catch_response=True) as answer:
            if answer.status_code != 201:
                _failed(answer)


def _failed(answer: Any) -> None:
    """Mark ``answer`` failed: a refusal for being busy is named apart, and waited out."""
    text = answer.text or ""
    if answer.status_code == 503 and BUSY in text:
        wait = answer.headers.get("Retry-After", "1")
        answer.failure(f"busy (503, Retry-After {wait} s)")
        gevent.sleep(float(wait) if wait.isdigit() else 1.0)
        return
    answer.failure(f"{answer.status_code}: {text[:200]}")
