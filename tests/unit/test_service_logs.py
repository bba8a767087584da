"""The request log line: written straight to the configured stream, the same as through logging."""

from __future__ import annotations

import contextlib
import io
import json
import logging

import pytest

from tradevc.service import logs


@pytest.fixture
def configured():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logs._Direct.handler)
    stream = io.StringIO()
    logs.configure(stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logs._Direct.handler = saved[2]


@contextlib.contextmanager
def alone():
    """Only the configured handler on the root logger (pytest adds its own during each test)."""
    root = logging.getLogger()
    others = [h for h in root.handlers if h is not logs._Direct.handler]
    for handler in others:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in others:
            root.addHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("client_id", ["customs", None])
def test_the_direct_line_is_the_line_logging_writes(configured, client_id):
    with alone():
        _direct_then_through_logging(client_id)
    direct, through_logging = _lines(configured)
    assert direct.pop("time")[-1] == through_logging.pop("time")[-1] == "Z"
    assert list(direct) == list(through_logging)  # the same members in the same order
    assert direct == through_logging
    assert direct["duration_ms"] == 1.235 and ("client_id" in direct) == (client_id is not None)


def _direct_then_through_logging(client_id):
    assert logs._direct_handler() is not None
    logs.log_request("ab" * 16, client_id, "POST", "/credentials/verify", 200, 1.23456)
    other = io.StringIO()
    extra = logging.StreamHandler(other)  # a second handler: the line goes through logging
    logging.getLogger().addHandler(extra)
    try:
        assert logs._direct_handler() is None
        logs.log_request("ab" * 16, client_id, "POST", "/credentials/verify", 200, 1.23456)
    finally:
        logging.getLogger().removeHandler(extra)


def test_loggers_between_the_access_log_and_the_root_are_looked_through(configured):
    """``tradevc.service`` and ``tradevc`` loggers exist once any module asks for them."""
    middle = logging.getLogger("tradevc.service")
    with alone():
        assert logs._direct_handler() is not None
        middle.propagate = False
        try:
            assert logs._direct_handler() is None
        finally:
            middle.propagate = True
        extra = logging.NullHandler()
        middle.addHandler(extra)
        try:
            assert logs._direct_handler() is None
        finally:
            middle.removeHandler(extra)


def test_a_raised_level_or_a_filter_is_obeyed(configured):
    with alone():
        _level_and_filter(configured)


def _level_and_filter(configured):
    access = logging.getLogger("tradevc.service.access")
    access.setLevel(logging.WARNING)
    try:
        logs.log_request("cd" * 16, "customs", "POST", "/credentials/verify", 200, 1.0)
    finally:
        access.setLevel(logging.NOTSET)
    assert configured.getvalue() == ""

    class Drop(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return False

    drop = Drop()
    logging.getLogger().handlers[0].addFilter(drop)
    try:
        logs.log_request("cd" * 16, "customs", "POST", "/credentials/verify", 200, 1.0)
    finally:
        logging.getLogger().handlers[0].removeFilter(drop)
    assert configured.getvalue() == ""
    assert logs._direct_handler() is not None
    logs.log_request("cd" * 16, "customs", "POST", "/credentials/verify", 200, 1.0)
    assert _lines(configured)[0]["request_id"] == "cd" * 16
