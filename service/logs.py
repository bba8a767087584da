"""The service's log: one JSON object a line, on stderr.

Every request is logged once, when its answer is done, by the logger ``tradevc.service.access``:
``time`` (UTC, milliseconds), ``level``, ``logger``, ``message``, ``pid`` (the process: with
several workers, the one that answered; every line has it), ``request_id`` (the answer's
``X-Request-Id``), ``client_id`` (once its bearer token was checked), ``method``, ``route``
(the template it matched, never the raw path), ``status`` and ``duration_ms``. A request that
failed inside adds the ``exception`` (its traceback) to a line of its own with the same
``request_id``, which is all the 500 answer tells the caller. Headers, query strings and
bodies are never logged, so neither are tokens, secrets nor documents. Other messages (the
server starting and stopping) are JSON lines too.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any

import orjson

__all__ = ["ACCESS", "FIELDS", "JsonFormatter", "configure", "log_request"]

ACCESS = logging.getLogger("tradevc.service.access")
FIELDS = ("request_id", "client_id", "method", "route", "status", "duration_ms")
"""The members a record may carry as ``extra``, in the order they are written."""


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, pid, the :data:`FIELDS` it has, exception."""

    def format(self, record: logging.LogRecord) -> str:
        created = record.created
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
            "pid": record.process,
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Send every log record of the process to ``stream`` (default stderr) as JSON lines."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # what the lines never show, not gathered for each record (the logging documentation's
    # "Optimization"): the caller's file and line (a frame walk), the thread, the process name
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False


def log_request(request_id: str, client_id: str | None, method: str, route: str, status: int,
                duration_ms: float) -> None:
    """Log one answered request (see the module's documentation)."""
    ACCESS.info("%s %s %d", method, route, status, extra={
        "request_id": request_id, "client_id": client_id, "method": method, "route": route, "status": status,
        "duration_ms": round(duration_ms, 3),
    })
