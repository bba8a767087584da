"""The service's Prometheus metrics (``prometheus-client``), in a registry of their own.

Every label has a bounded set of values, so no caller can grow the metrics without end: a
route is the template it matched (``/issuers/{name}/credentials/issue``, never the raw path;
``unmatched`` when none did), a method one of the few the service answers (else ``other``),
a status its class (``2xx``...), an issuer one of the configured ones.

- ``tradevc_http_requests_total{method, route, status}`` and
  ``tradevc_http_request_duration_seconds{route}`` (a histogram): every request.
- ``tradevc_verifications_total{outcome}``: the answers of the verifying routes, by outcome
  (``verified`` 200, ``not_verified`` 422, ``could_not_verify`` 503; a malformed or refused
  request is no verification).
- ``tradevc_credentials_issued_total{issuer}``: the credentials each issuer issued (201s).

With several workers (``[listen] workers``) the metrics are prometheus-client's multiprocess
mode: each worker writes its values to files in a folder of the service's private runtime
folder, and ``GET /metrics`` (whichever worker answers) sums every worker's, those of workers
that ended included, so counters never go back. (The ``_created`` samples are then absent.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "ISSUING_ROUTE", "VERIFYING_ROUTES", "Metrics", "use_multiprocess_mode"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
VERIFYING_ROUTES = frozenset(("/credentials/verify", "/presentations/verify", "/presentations"))
"""The routes whose answers count as verifications."""
ISSUING_ROUTE = "/issuers/{name}/credentials/issue"
_OUTCOMES = {200: "verified", 422: "not_verified", 503: "could_not_verify"}
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def use_multiprocess_mode(directory: Path) -> None:
    """Make every metric created from now on in this process (and the processes it forks) keep
    its values in files in ``directory``, to be summed by :class:`Metrics`. prometheus-client
    picks its value class from ``PROMETHEUS_MULTIPROC_DIR`` when it is imported; the number of
    workers is only known from the configuration, later, so the choice is made again here with
    the library's own function."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class Metrics:
    """The counters and the histogram of one application, and their text exposition (of every
    worker's, once :func:`use_multiprocess_mode` was called)."""

    def __init__(self) -> None:
        multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
        self.directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") if multiprocess else None
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("tradevc_http_requests", "HTTP requests answered, by route template and status class",
                                ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("tradevc_http_request_duration_seconds",
                                  "Time from a request's arrival to the end of its answer, by route template",
                                  ["route"], registry=self.registry)
        self.verifications = Counter("tradevc_verifications", "Verifications answered, by outcome", ["outcome"],
                                     registry=self.registry)
        self.issued = Counter("tradevc_credentials_issued", "Credentials issued, by issuer", ["issuer"],
                              registry=self.registry)
        for outcome in _OUTCOMES.values():
            self.verifications.labels(outcome=outcome)
        # the labelled children a request needs, by (method, route, status): labels() checks
        # and locks on every call; the children it returns are the same each time, and in
        # multiprocess mode each follows the process it is used in (prometheus-client checks)
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float,
                path_params: Mapping[str, Any] | None = None) -> None:
        """Count one answered request: ``route`` is the template it matched (or ``unmatched``)."""
        children = self._children.get((method, route, status))
        if children is None:  # bounded: methods, route templates and statuses are few
            children = (
                self.requests.labels(method=method if method in _METHODS else "other", route=route,
                                     status=f"{status // 100}xx"),
                self.duration.labels(route=route),
                self.verifications.labels(outcome=_OUTCOMES[status])
                if route in VERIFYING_ROUTES and status in _OUTCOMES else None,
            )
            if method in _METHODS:
                self._children[(method, route, status)] = children
        requests, duration, verifications = children
        requests.inc()
        duration.observe(seconds)
        if verifications is not None:
            verifications.inc()
        if route == ISSUING_ROUTE and status == 201 and path_params is not None:
            self.issued.labels(issuer=str(path_params.get("name"))).inc()  # 201: a configured issuer

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        if self.directory is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.directory)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
