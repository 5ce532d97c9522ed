"""Logging, configured once per process at start: one structured line per event.

``JIMU_LOG_FORMAT=json`` (production's default) writes one JSON object per line
(time, level, logger, message and the event's own fields); ``text`` (development's
default) writes them as ``key=value`` after the message. uvicorn's own loggers go
through the same handler, so every line of a process has one format.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

FIELDS = "jimu"  # the LogRecord attribute an event's own fields travel in (``extra={"jimu": {...}}``)
_HANDLER_NAME = "jimu"


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text: a line per request asks


def _when(record: logging.LogRecord) -> str:
    """``2026-12-02T06:18:21.680Z``."""
    whole = int(record.created)
    if _second[0] != whole:
        _second[:] = [whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{int((record.created - whole) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _when(record), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{_when(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            text += " " + " ".join([f"{key}={_text(value)}" for key, value in fields.items()])
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return text


_BARE = re.compile(r"[A-Za-z0-9._:/+=@-]*")


def _text(value: Any) -> str:
    """A value as one token: numbers and plain words as they are; anything else (a path a
    client chose, with a space or a newline in it) quoted, so no value can forge a line."""
    if type(value) in (int, float) or (type(value) is str and _BARE.fullmatch(value)):
        return str(value)
    return orjson.dumps(value if isinstance(value, list | dict) else str(value)).decode()


def configure_logging(form: str, level: str) -> None:
    """One handler on the root logger, writing to stderr in ``form``; uvicorn's loggers
    hand their lines to it. Called again (a worker after its parent), it replaces its own."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Neither format prints the caller, thread or process: not looking them up saves a third
    # of a line's cost, and there is a line per request. (``_srcfile = None`` is how the
    # logging module's own comments say to skip the caller lookup.)
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        if uvicorn_logger.handlers:  # uvicorn's own configuration: its lines come here instead
            uvicorn_logger.handlers.clear()
            uvicorn_logger.propagate = True
    # An access log turned off is uvicorn.access not propagating: that is left as it is.
