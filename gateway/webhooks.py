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
    NotConfigured,
    Notice,
    NoticeRejected,
    Settled,
    UnknownPayment,
)
from adapters.payments.sandbox import SandboxProvider
from adapters.payments.wechat import WechatPayProvider
from adapters.shops.port import ShopStore
from adapters.shops.rules import HANDLE_PATTERN
from adapters.wechat_accounts.port import SecretUnreadable
from adapters.wechat_accounts.providers import ShopWechatPay

log = logging.getLogger("jimu.webhooks")
MAX_NOTICE_BYTES = 64 * 1024  # the edge (gateway.edge) refuses larger bodies, and bodies that are not JSON
SANDBOX_PATH = "/webhooks/payments/sandbox"
WECHAT_PATH = "/webhooks/payments/wechat"
SHOP_WECHAT_PATH = WECHAT_PATH + "/{shop}"  # a shop's own merchant (or sub-merchant): <notify url>/<handle>


def sandbox_webhook(cashier: Cashier, provider: SandboxProvider):  # noqa: ANN201 - a Starlette endpoint
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            notice = provider.verify(body, request.headers.get("x-jimu-signature"))
            settled = await _settle(cashier, notice, "sandbox")
        except REFUSED as exc:
            return refuse_sandbox(refused_status(exc), str(exc))
        return JSONResponse({"status": "ok", "paymentState": settled.payment.state.value, "changed": settled.changed})

    return endpoint


REFUSED = (NoticeRejected, BadNotice, AmountMismatch, UnknownPayment)


def refused_status(exc: Exception) -> int:
    """401 for a notification that is not the provider's, 404 for a payment we do not
    have, 400 for one that does not say what it must (or another amount than the payment's)."""
    if isinstance(exc, NoticeRejected):
        return 401
    return 404 if isinstance(exc, UnknownPayment) else 400


async def _settle(cashier: Cashier, notice: Notice, route: str) -> Settled:
    settled = await cashier.notify(notice, utcnow())
    payment = settled.payment
    if settled.changed:
        log.info("payment %s %s", payment.id, payment.state.value, extra={"jimu": {
            "payment_id": payment.id, "state": payment.state.value, "order": payment.order_number,
            "shop_id": payment.shop_id, "amount_minor": notice.amount, "route": route}})
    return settled


def _refused(route: str, status: int, message: str) -> None:
    log.warning("payment notification refused (%s): %s", status, message,
                extra={"jimu": {"route": route, "status": status}})


def refuse_sandbox(status: int, message: str) -> JSONResponse:
    _refused("sandbox", status, message)
    return JSONResponse({"status": "refused", "message": message}, status_code=status)


def wechat_webhook(cashier: Cashier, provider: WechatPayProvider):  # noqa: ANN201 - a Starlette endpoint
    """WeChat Pay v3 notifications: 200 with no body when taken; 4xx with {code: FAIL} makes WeChat retry."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            notice = provider.verify({k.lower(): v for k, v in request.headers.items()}, body)
            if notice is not None:
                await _settle(cashier, notice, "wechat")
        except REFUSED as exc:
            return refuse_wechat(refused_status(exc), str(exc))
        return Response(status_code=204)

    return endpoint


def refuse_wechat(status: int, message: str) -> JSONResponse:
    _refused("wechat", status, message)
    return JSONResponse({"code": "FAIL", "message": message}, status_code=status)


def shop_wechat_webhook(cashier: Cashier, router: ShopWechatPay, shops: ShopStore):  # noqa: ANN201
    """A shop's own WeChat Pay notifications: verified by that shop's keys, for that shop's payments only."""

    async def endpoint(request: Request) -> Response:
        handle = request.path_params["shop"]
        [shop] = await shops.shops_by_handle([handle]) if HANDLE_PATTERN.fullmatch(handle) else [None]
        if shop is None:
            return refuse_wechat(404, "no such shop")
        body = await _bounded(request)
        if body is None:
            return refuse_wechat(413, f"a notification is at most {MAX_NOTICE_BYTES} bytes")
        try:
            provider = await router.wechat.pay(shop.id)
            if provider is None:
                return refuse_wechat(404, "this shop takes WeChat Pay through the deployment's merchant")
            notice = provider.verify({k.lower(): v for k, v in request.headers.items()}, body)
            if notice is not None:
                payment = await cashier.ledger.payment(notice.payment_id)
                if payment is None:
                    raise UnknownPayment("no such payment")
                if payment.shop_id != shop.id:
                    raise BadNotice("not a payment of this shop")
                await _settle(cashier, notice, f"wechat/{handle}")
        except (SecretUnreadable, NotConfigured) as exc:
            log.error("shop %s: a WeChat Pay notification cannot be verified: %s", handle, exc)
            return refuse_wechat(503, "this shop's WeChat Pay keys cannot be used now")
        except REFUSED as exc:
            return refuse_wechat(refused_status(exc), str(exc))
        return Response(status_code=204)

    return endpoint


async def _bounded(request: Request) -> bytes | None:
    """The body, or None past MAX_NOTICE_BYTES (the edge guards fixed paths only; this one has the shop in it)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_NOTICE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
