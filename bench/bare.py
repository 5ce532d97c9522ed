"""A bare Starlette app answering each benchmark operation with fixed bytes: the floor."""

from __future__ import annotations

import json
import sys
from urllib.parse import unquote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

answers = {name: body.encode() for name, body in json.loads(open(sys.argv[1], encoding="utf-8").read()).items()}


async def answer(request: Request) -> Response:
    await request.body()  # read it, as the gateway does
    return Response(answers[unquote(request.path_params["name"])], media_type="application/json")


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/healthz", healthz), Route("/{name:path}", answer, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
