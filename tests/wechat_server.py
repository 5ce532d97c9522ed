"""A fake WeChat (code2Session) and WeChat Pay (JSAPI prepay), served over real HTTP by uvicorn in a thread."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class FakeWechat:
    apps: dict[str, str]  # app id -> app secret
    url: str = ""
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (appid, secret, code) as asked
    prepays: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, body)

    def app(self) -> Starlette:
        ids = itertools.count(1)

        async def code2session(request: Request) -> JSONResponse:
            q = request.query_params
            appid, secret, code = q.get("appid", ""), q.get("secret", ""), q.get("js_code", "")
            self.logins.append((appid, secret, code))
            if appid not in self.apps:
                return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
            if self.apps[appid] != secret:
                return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
            if q.get("grant_type") != "authorization_code" or code == "used":
                return JSONResponse({"errcode": 40163, "errmsg": "code been used"})
            return JSONResponse({"openid": f"o-{appid}-{code}", "session_key": "k"})

        async def prepay(request: Request) -> JSONResponse:
            if not request.headers.get("authorization", "").startswith("WECHATPAY2-SHA256-RSA2048 "):
                return JSONResponse({"code": "SIGN_ERROR"}, status_code=401)
            self.prepays.append((request.url.path, await request.json()))
            return JSONResponse({"prepay_id": f"wx-prepay-{next(ids)}"})

        return Starlette(routes=[
            Route("/sns/jscode2session", code2session),
            Route("/v3/pay/transactions/jsapi", prepay, methods=["POST"]),
            Route("/v3/pay/partner/transactions/jsapi", prepay, methods=["POST"]),
        ])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(fake: FakeWechat) -> Iterator[FakeWechat]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake WeChat server did not start")
        time.sleep(0.02)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(5)
