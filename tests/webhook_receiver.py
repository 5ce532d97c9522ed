"""A merchant's webhook endpoint, as a real process: ``python -m tests.webhook_receiver --port P --secret S --log FILE``.

Every request but ``GET /health`` is appended to FILE as one JSON line, flushed
and fsynced before it is answered, so a test in another process reads what
arrived while the receiver runs. The signature is checked with the merchant's
snippet in docs/webhooks/verify.py, the code the README tells merchants to copy.

Options shape the answers: ``--fail-first N`` answers ``--fail-status`` to the
first N requests of each event id (``X-Jimu-Event-Id``), ``--sleep`` delays
every answer, ``--redirect URL`` answers 302 to it, ``--answer-bytes N`` streams
an answer of N bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

VERIFY_PY = Path(__file__).resolve().parent.parent / "docs" / "webhooks" / "verify.py"


def merchant_verify() -> Callable[[str, bytes, str], bool]:
    """``verify_jimu_webhook`` from the docs: a file to copy, not a module of ours, so it is loaded by path."""
    spec = importlib.util.spec_from_file_location("jimu_docs_verify", VERIFY_PY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verify_jimu_webhook


def receiver_app(options: argparse.Namespace) -> Starlette:
    verify = merchant_verify()
    seen: Counter[str] = Counter()  # requests so far per event id
    log = open(options.log, "a", encoding="utf-8")  # open for the life of the process

    def record(line: dict) -> None:
        log.write(json.dumps(line) + "\n")
        log.flush()
        os.fsync(log.fileno())

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def hook(request: Request) -> Response:
        body = await request.body()
        event_id = request.headers.get("x-jimu-event-id", "")
        seen[event_id] += 1
        failing = seen[event_id] <= options.fail_first
        status = 302 if options.redirect else options.fail_status if failing else 200
        record({
            "time": time.time(), "method": request.method, "path": request.url.path,
            "headers": {k: v for k, v in request.headers.items() if k.startswith("x-jimu-")},
            "body": body.decode("utf-8", errors="replace"),
            "verified": verify(options.secret, body, request.headers.get("x-jimu-hmac-sha256", "")),
            "status": status,
        })
        if options.sleep:
            await asyncio.sleep(options.sleep)
        if options.redirect:
            return RedirectResponse(options.redirect, status_code=302)
        if options.answer_bytes:
            return StreamingResponse(_filler(options.answer_bytes), status_code=status, media_type="text/plain")
        return PlainTextResponse("failing on purpose" if failing else "thanks", status_code=status)

    return Starlette(routes=[Route("/health", health), Route("/{path:path}", hook, methods=["POST", "PUT", "GET"])])


async def _filler(size: int) -> AsyncIterator[bytes]:
    chunk = b"x" * 65536
    while size > 0:
        yield chunk[:size]
        size -= len(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--redirect")
    parser.add_argument("--answer-bytes", type=int, default=0)
    options = parser.parse_args()
    uvicorn.run(receiver_app(options), host="127.0.0.1", port=options.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
