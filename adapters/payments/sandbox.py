"""The sandbox payment provider: a payment sheet that is a signed webhook.

A notification is ``POST /webhooks/payments/sandbox`` with a JSON body
``{"paymentId": "<Payment.id>", "status": "SUCCEEDED"|"FAILED", "amountMinor": N}``
and ``X-Jimu-Signature``: the hex HMAC-SHA256 of the raw body with the sandbox
secret. Anyone holding the secret can "pay": it is for development and tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from adapters.payments.port import (
    BadNotice,
    Method,
    Notice,
    NoticeRejected,
    Payment,
    Session,
)

_PAYMENT_ID = re.compile(r"^gid://jimu/Payment/([1-9][0-9]{0,17})$")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxProvider:
    method = Method.SANDBOX

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def session(self, payment: Payment, order_description: str, payer: str | None) -> Session:
        return Session(payment, {
            "provider": "SANDBOX",
            "paymentId": f"gid://jimu/Payment/{payment.id}",
            "amountMinor": payment.amount,
            "description": order_description,
            "notifyPath": "/webhooks/payments/sandbox",
        })

    async def ready(self, shop_id: int) -> None:
        return None

    async def query(self, payment: Payment) -> Notice | None:
        return None  # the sandbox only ever speaks through its webhook

    def verify(self, body: bytes, signature: str | None) -> Notice:
        """The notice in a request; NoticeRejected for a bad signature, BadNotice for a bad body."""
        if not signature or not hmac.compare_digest(sign(self._secret, body), signature.strip().lower()):
            raise NoticeRejected("the X-Jimu-Signature does not match the body")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadNotice("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise BadNotice("the body must be a JSON object")
        match = _PAYMENT_ID.fullmatch(str(data.get("paymentId", "")))
        amount = data.get("amountMinor")
        status = data.get("status")
        if match is None:
            raise BadNotice("paymentId must be a Payment id")
        if status not in ("SUCCEEDED", "FAILED"):
            raise BadNotice("status must be SUCCEEDED or FAILED")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise BadNotice("amountMinor must be a positive whole number of fen")
        return Notice(payment_id=int(match.group(1)), succeeded=status == "SUCCEEDED", amount=amount,
                      reference=str(data.get("reference"))[:200] if data.get("reference") else None)
