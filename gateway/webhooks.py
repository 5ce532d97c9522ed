"""Payment provider notifications: verified, applied once, answered with the status providers expect.

Sandbox: 401 for a bad signature, 400 for a body that is not a notification or
an amount that is not the payment's, 404 for an unknown payment, 200 otherwise
(a replay too: it is counted once). Nothing changes unless the answer is 200.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.db import utcnow
from adapters.payments.cashier import Cashier
from adapters.payments.port import (
    AmountMismatch,
    BadNotice,
    NoticeRejected,
    UnknownPayment,
)
from adapters.payments.sandbox import SandboxProvider
from adapters.payments.wechat import WechatPayProvider

log = logging.getLogger("jimu.webhooks")
MAX_NOTICE_BYTES = 64 * 1024  # the edge (gateway.edge) refuses larger bodies, and bodies that are not JSON
SANDBOX_PATH = "/webhooks/payments/sandbox"
WECHAT_PATH = "/webhooks/payments/wechat"


def sandbox_webhook(cashier: Cashier, provider: SandboxProvider):  # noqa: ANN201 - a Starlette endpoint
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            notice = provider.verify(body, request.headers.get("x-jimu-signature"))
            settled = await cashier.notify(notice, utcnow())
        except NoticeRejected as exc:
            return refuse_sandbox(401, str(exc))
        except (BadNotice, AmountMismatch) as exc:
            return refuse_sandbox(400, str(exc))
        except UnknownPayment as exc:
            return refuse_sandbox(404, str(exc))
        if settled.changed:
            log.info("payment %s %s", settled.payment.id, settled.payment.state.value)
        return JSONResponse({"status": "ok", "paymentState": settled.payment.state.value, "changed": settled.changed})

    return endpoint


def refuse_sandbox(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": "refused", "message": message}, status_code=status)


def wechat_webhook(cashier: Cashier, provider: WechatPayProvider):  # noqa: ANN201 - a Starlette endpoint
    """WeChat Pay v3 notifications: 200 with no body when taken; 4xx with {code: FAIL} makes WeChat retry."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            notice = provider.verify({k.lower(): v for k, v in request.headers.items()}, body)
            if notice is not None:
                await cashier.notify(notice, utcnow())
        except NoticeRejected as exc:
            return refuse_wechat(401, str(exc))
        except (BadNotice, AmountMismatch) as exc:
            return refuse_wechat(400, str(exc))
        except UnknownPayment as exc:
            return refuse_wechat(404, str(exc))
        return Response(status_code=204)

    return endpoint


def refuse_wechat(status: int, message: str) -> JSONResponse:
    return JSONResponse({"code": "FAIL", "message": message}, status_code=status)
