"""WeChat Pay API v3: JSAPI prepay, the mini-program's payment parameters, notifications, order query.

Requests to WeChat Pay are signed with the merchant's RSA key
(``WECHATPAY2-SHA256-RSA2048``); notifications are verified against the WeChat
Pay platform public key, then their ``resource`` is decrypted with the APIv3
key (AEAD_AES_256_GCM). The HTTP client is injected, so tests run against
``httpx.MockTransport`` with keys they generate.

Errors::

    WechatPayError          WeChat Pay answered with an error, or not at all
    PayerUnknown            INVALID_STATE: no openid to charge (the shopper did not sign in through WeChat)
    NoticeRejected          a notification that is not WeChat Pay's, or is stale
    BadNotice               WeChat Pay's, but not a transaction of ours we can read
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.payments.port import (
    BadNotice,
    Method,
    Notice,
    NoticeRejected,
    Payment,
    PaymentError,
    Session,
)

API = "https://api.mch.weixin.qq.com"
NOTICE_MAX_AGE_SECONDS = 300  # WeChat Pay retries within minutes; older is a replay
_OUT_TRADE_NO = re.compile(r"^jimu-([1-9][0-9]{0,17})$")


class WechatPayError(Exception):
    pass


class PayerUnknown(PaymentError):
    """The shopper did not sign in through WeChat: WeChat Pay has no openid to charge."""


@dataclass(frozen=True, slots=True)
class WechatPayConfig:
    app_id: str
    mch_id: str
    serial_no: str  # the merchant certificate's serial number
    private_key_pem: bytes
    api_v3_key: bytes  # 32 bytes
    platform_public_key_pem: bytes
    notify_url: str


def out_trade_no(payment_id: int) -> str:
    return f"jimu-{payment_id}"


def payment_id_of(trade_no: str) -> int | None:
    match = _OUT_TRADE_NO.fullmatch(trade_no)
    return int(match.group(1)) if match else None


class WechatPayProvider:
    method = Method.WECHAT_PAY

    def __init__(self, config: WechatPayConfig, client: httpx.AsyncClient) -> None:
        if len(config.api_v3_key) != 32:
            raise ValueError("the WeChat Pay APIv3 key is 32 bytes")
        self._config = config
        self._client = client
        key = serialization.load_pem_private_key(config.private_key_pem, password=None)
        public = serialization.load_pem_public_key(config.platform_public_key_pem)
        if not isinstance(key, rsa.RSAPrivateKey) or not isinstance(public, rsa.RSAPublicKey):
            raise ValueError("WeChat Pay keys are RSA keys")
        self._key = key
        self._platform = public

    # ---------------------------------------------------------------- paying

    async def session(self, payment: Payment, order_description: str, payer: str | None) -> Session:
        """JSAPI prepay, then the parameters wx.requestPayment takes, signed."""
        if not payer:
            raise PayerUnknown("WeChat Pay needs the payer's openid: sign in through WeChat")
        prepay_id = payment.provider_ref or await self.prepay(payment, order_description, payer)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        message = f"{self._config.app_id}\n{timestamp}\n{nonce}\n{package}\n"
        return Session(payment, {
            "provider": "WECHAT_PAY",
            "appId": self._config.app_id,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._sign(message),
        })

    async def prepay(self, payment: Payment, description: str, openid: str) -> str:
        body = {
            "appid": self._config.app_id,
            "mchid": self._config.mch_id,
            "description": description[:127],
            "out_trade_no": out_trade_no(payment.id),
            "notify_url": self._config.notify_url,
            "amount": {"total": payment.amount, "currency": "CNY"},
            "payer": {"openid": openid},
        }
        answer = await self._call("POST", "/v3/pay/transactions/jsapi", body)
        prepay_id = answer.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise WechatPayError("WeChat Pay gave no prepay_id")
        return prepay_id

    async def query(self, payment_id: int) -> Notice | None:
        """The transaction as WeChat Pay has it, for reconciliation; None while it is not final."""
        path = f"/v3/pay/transactions/out-trade-no/{out_trade_no(payment_id)}?mchid={self._config.mch_id}"
        return _notice(await self._call("GET", path, None))

    # ---------------------------------------------------------------- notifications

    def verify(self, headers: dict[str, str], body: bytes, now: float | None = None) -> Notice | None:
        """The notice in a notification; NoticeRejected unless WeChat Pay signed it; None if not final."""
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        if not timestamp.isdigit() or not nonce or not signature:
            raise NoticeRejected("the Wechatpay-Timestamp, -Nonce and -Signature headers are required")
        if abs((now if now is not None else time.time()) - int(timestamp)) > NOTICE_MAX_AGE_SECONDS:
            raise NoticeRejected("the notification is too old")
        try:
            self._platform.verify(base64.b64decode(signature, validate=True),
                                  f"{timestamp}\n{nonce}\n".encode() + body + b"\n",
                                  padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError) as exc:
            raise NoticeRejected("the signature is not WeChat Pay's") from exc
        try:
            resource = json.loads(body)["resource"]
            plain = AESGCM(self._config.api_v3_key).decrypt(
                resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
                (resource.get("associated_data") or "").encode(),
            )
            return _notice(json.loads(plain))
        except (InvalidTag, KeyError, TypeError, ValueError) as exc:
            raise BadNotice("the notification's resource cannot be decrypted with the APIv3 key") from exc

    # ---------------------------------------------------------------- signing

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = self._sign(f"{method}\n{path}\n{timestamp}\n{nonce}\n{text}\n")
        authorization = (
            f'WECHATPAY2-SHA256-RSA2048 mchid="{self._config.mch_id}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{timestamp}",serial_no="{self._config.serial_no}"'
        )
        try:
            response = await self._client.request(
                method, API + path, content=text.encode() if body is not None else None, timeout=10,
                headers={"Authorization": authorization, "Accept": "application/json",
                         "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise WechatPayError(f"WeChat Pay did not answer: {exc}") from exc
        if response.status_code >= 300:
            raise WechatPayError(f"WeChat Pay refused ({response.status_code}): {response.text[:200]}")
        try:
            return response.json()
        except ValueError as exc:
            raise WechatPayError("WeChat Pay answered with something that is not JSON") from exc

    def _sign(self, message: str) -> str:
        return base64.b64encode(self._key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _notice(transaction: dict[str, Any]) -> Notice | None:
    """A transaction (decrypted notification or query answer) as a notice; None while it is not final."""
    payment_id = payment_id_of(str(transaction.get("out_trade_no", "")))
    if payment_id is None:
        raise BadNotice("not a jimu payment")
    state = transaction.get("trade_state")
    if state in ("NOTPAY", "USERPAYING", "ACCEPT"):
        return None
    amount = (transaction.get("amount") or {}).get("total")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise BadNotice("the transaction has no amount")
    return Notice(payment_id=payment_id, succeeded=state == "SUCCESS", amount=amount,
                  reference=str(transaction.get("transaction_id") or "")[:200] or None)
