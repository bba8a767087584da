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
import os
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
        entry = _entry(record.created, record.levelname.lower(), record.name, record.getMessage(), record.process,
                       {name: getattr(record, name, None) for name in FIELDS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class _Second:
    """The date and time to the second last formatted (a line a request, mostly the same
    second), as one tuple: threads that log at once read a pair that belongs together."""

    cached: tuple[int, str] = (-1, "")


def _entry(created: float, level: str, logger: str, message: str, pid: int | None,
           fields: dict[str, Any]) -> dict[str, Any]:
    """A line's members in their order: time (UTC, milliseconds), level, logger, message, pid,
    then the :data:`FIELDS` that are not None."""
    second, text = _Second.cached
    if int(created) != second:
        second = int(created)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _Second.cached = (second, text)
    entry: dict[str, Any] = {"time": f"{text}.{int(created * 1000) % 1000:03d}Z", "level": level,
                             "logger": logger, "message": message, "pid": pid}
    entry.update((name, value) for name, value in fields.items() if value is not None)
    return entry


class _Direct:
    """The handler :func:`configure` installed: while it is the only one, a request's line is
    written by :func:`log_request` straight to its stream, as the formatter would write it,
    without a ``LogRecord`` (some microseconds a request). Anything else (another handler, a
    filter, the level raised) and the line goes through ``logging``."""

    handler: logging.StreamHandler[IO[str]] | None = None


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Send every log record of the process to ``stream`` (default stderr) as JSON lines."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _Direct.handler = handler
    # what the lines never show, not gathered for each record (the logging documentation's
    # "Optimization"): the caller's file and line (a frame walk), the thread, the process name
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False


def _direct_handler() -> logging.StreamHandler[IO[str]] | None:
    handler = _Direct.handler
    if handler is None or handler.filters or handler.level > logging.INFO:
        return None
    if ACCESS.getEffectiveLevel() > logging.INFO or logging.root.manager.disable >= logging.INFO:
        return None
    logger: logging.Logger | None = ACCESS
    while logger is not None:  # every logger a record would pass through on its way to the root
        if logger.disabled or logger.filters:
            return None
        if logger.parent is None:
            return handler if logger.handlers == [handler] else None
        if logger.handlers or not logger.propagate:
            return None
        logger = logger.parent
    return None


def log_request(request_id: str, client_id: str | None, method: str, route: str, status: int,
                duration_ms: float) -> None:
    """Log one answered request (see the module's documentation)."""
    fields = {"request_id": request_id, "client_id": client_id, "method": method, "route": route,
              "status": status, "duration_ms": round(duration_ms, 3)}
    handler = _direct_handler()
    if handler is None:
        ACCESS.info("%s %s %d", method, route, status, extra=fields)
        return
    entry = _entry(time.time(), "info", ACCESS.name, f"{method} {route} {status}", os.getpid(), fields)
    line = orjson.dumps(entry, default=str).decode() + handler.terminator
    with handler.lock:  # type: ignore[union-attr]  # created by the handler's constructor
        try:
            handler.stream.write(line)
            handler.stream.flush()
        except Exception:  # noqa: BLE001 - as logging does: a log that cannot be written stops nothing
            handler.handleError(logging.LogRecord(ACCESS.name, logging.INFO, __file__, 0, line, None, None))
