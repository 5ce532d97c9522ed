"""WeChat Pay API v3: JSAPI prepay, the mini-program's payment parameters, notifications, order query.

Requests to WeChat Pay are signed with the merchant's RSA key
(``WECHATPAY2-SHA256-RSA2048``); notifications are verified against the WeChat
Pay platform public key, then their ``resource`` is decrypted with the APIv3
key (AEAD_AES_256_GCM). The HTTP client is injected, so tests run against
``httpx.MockTransport`` with keys they generate.

A config with a ``sub_mch_id`` pays for a sub-merchant (特约商户) through the
partner API: ``app_id`` and ``mch_id`` are then the service provider's
(sp_appid, sp_mchid), who signs; the sheet is the sub-merchant's mini-program's.

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
from dataclasses import dataclass, field
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
    private_key_pem: bytes = field(repr=False)
    api_v3_key: bytes = field(repr=False)  # 32 bytes
    platform_public_key_pem: bytes
    notify_url: str
    sub_mch_id: str | None = None  # set: a sub-merchant under the service provider app_id/mch_id name
    sub_app_id: str | None = None  # the sub-merchant's mini-program, whose openids its shoppers have


def out_trade_no(payment_id: int) -> str:
    return f"jimu-{payment_id}"


def payment_id_of(trade_no: str) -> int | None:
    match = _OUT_TRADE_NO.fullmatch(trade_no)
    return int(match.group(1)) if match else None


class WechatPayProvider:
    method = Method.WECHAT_PAY

    def __init__(self, config: WechatPayConfig, client: httpx.AsyncClient, api_base: str = API) -> None:
        if len(config.api_v3_key) != 32:
            raise ValueError("the WeChat Pay APIv3 key is 32 bytes")
        self._config = config
        self._client = client
        self._api = api_base.rstrip("/")
        key = serialization.load_pem_private_key(config.private_key_pem, password=None)
        public = serialization.load_pem_public_key(config.platform_public_key_pem)
        if not isinstance(key, rsa.RSAPrivateKey) or not isinstance(public, rsa.RSAPublicKey):
            raise ValueError("WeChat Pay keys are RSA keys")
        self._key = key
        self._platform = public

    @property
    def config(self) -> WechatPayConfig:
        return self._config

    @property
    def partner(self) -> bool:
        return self._config.sub_mch_id is not None

    # ---------------------------------------------------------------- paying

    async def ready(self, shop_id: int) -> None:
        return None

    async def session(self, payment: Payment, order_description: str, payer: str | None) -> Session:
        """JSAPI prepay, then the parameters wx.requestPayment takes, signed."""
        if not payer:
            raise PayerUnknown("WeChat Pay needs the payer's openid: sign in through WeChat")
        prepay_id = payment.provider_ref or await self.prepay(payment, order_description, payer)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        app_id = self._config.sub_app_id or self._config.app_id
        message = f"{app_id}\n{timestamp}\n{nonce}\n{package}\n"
        return Session(payment, {
            "provider": "WECHAT_PAY",
            "appId": app_id,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._sign(message),
        })

    async def prepay(self, payment: Payment, description: str, openid: str) -> str:
        config = self._config
        common = {
            "description": description[:127],
            "out_trade_no": out_trade_no(payment.id),
            "notify_url": config.notify_url,
            "amount": {"total": payment.amount, "currency": "CNY"},
        }
        if config.sub_mch_id is None:
            body = {"appid": config.app_id, "mchid": config.mch_id, **common, "payer": {"openid": openid}}
            path = "/v3/pay/transactions/jsapi"
        else:
            body = {"sp_appid": config.app_id, "sp_mchid": config.mch_id, "sub_mchid": config.sub_mch_id, **common,
                    "payer": {"sub_openid": openid} if config.sub_app_id else {"sp_openid": openid}}
            if config.sub_app_id:
                body["sub_appid"] = config.sub_app_id
            path = "/v3/pay/partner/transactions/jsapi"
        answer = await self._call("POST", path, body)
        prepay_id = answer.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise WechatPayError("WeChat Pay gave no prepay_id")
        return prepay_id

    async def query(self, payment: Payment) -> Notice | None:
        """The transaction as WeChat Pay has it, for reconciliation; None while it is not final."""
        config, trade_no = self._config, out_trade_no(payment.id)
        if config.sub_mch_id is None:
            path = f"/v3/pay/transactions/out-trade-no/{trade_no}?mchid={config.mch_id}"
        else:
            path = (f"/v3/pay/partner/transactions/out-trade-no/{trade_no}"
                    f"?sp_mchid={config.mch_id}&sub_mchid={config.sub_mch_id}")
        return self._ours(await self._call("GET", path, None))

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
            transaction = json.loads(plain)
        except (InvalidTag, KeyError, TypeError, ValueError) as exc:
            raise BadNotice("the notification's resource cannot be decrypted with the APIv3 key") from exc
        if not isinstance(transaction, dict):
            raise BadNotice("the notification's resource is not a transaction")
        return self._ours(transaction)

    def _ours(self, transaction: dict[str, Any]) -> Notice | None:
        """The notice, when the transaction is this merchant's (or sub-merchant's); BadNotice otherwise."""
        config = self._config
        if config.sub_mch_id is not None:  # a partner transaction: the service provider's, for this sub-merchant
            if str(transaction.get("sub_mchid")) != config.sub_mch_id or str(
                    transaction.get("sp_mchid", config.mch_id)) != config.mch_id:
                raise BadNotice("the transaction is not this sub-merchant's")
        elif str(transaction.get("mchid")) != config.mch_id or "sub_mchid" in transaction:
            # WeChat Pay names the merchant in every direct transaction; a sub-merchant's, signed
            # by the same service provider, is never taken here
            raise BadNotice("the transaction is not this merchant's")
        return _notice(transaction)

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
                method, self._api + path, content=text.encode() if body is not None else None, timeout=10,
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
