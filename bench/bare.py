"""The floor: a bare Starlette app that reads the body and answers fixed bytes.

    python bench/bare.py ANSWER_FILE PORT

Every POST (any path) is answered with the exact bytes of ANSWER_FILE (what the
gateway answered for the same request), as ``application/json``, after reading the
request body as the gateway does. Served by uvicorn with its defaults, one worker,
like ``jimu serve``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ANSWER = Path(sys.argv[1]).read_bytes()


async def answer(request: Request) -> Response:
    await request.body()
    return Response(ANSWER, media_type="application/json")


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/healthz", healthz), Route("/{path:path}", answer, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
