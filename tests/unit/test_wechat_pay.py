"""The WeChat Pay v3 provider against a fake WeChat Pay, with keys made here; no network."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.payments.port import (
    BadNotice,
    Kind,
    Method,
    NoticeRejected,
    Payment,
    State,
)
from adapters.payments.wechat import (
    PayerUnknown,
    WechatPayConfig,
    WechatPayError,
    WechatPayProvider,
)

API_V3_KEY = b"0123456789abcdef0123456789abcdef"


def pem_private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass
class Keys:
    merchant: rsa.RSAPrivateKey
    platform: rsa.RSAPrivateKey

    def config(self) -> WechatPayConfig:
        return WechatPayConfig(app_id="wx-app", mch_id="1900000001", serial_no="SERIAL-1",
                               private_key_pem=pem_private(self.merchant), api_v3_key=API_V3_KEY,
                               platform_public_key_pem=pem_public(self.platform),
                               notify_url="https://shop.example/webhooks/payments/wechat")


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048))


def payment(id_: int = 42, amount: int = 1_000_000) -> Payment:
    return Payment(id=id_, shop_id=1, order_number="2611250000000000000001", kind=Kind.DEPOSIT,
                   method=Method.WECHAT_PAY, amount=amount, state=State.PENDING,
                   created_at=datetime.now(timezone.utc))


def verified_by(key: rsa.RSAPrivateKey, message: bytes, signature: str) -> bool:
    try:
        key.public_key().verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def notification(keys: Keys, transaction: dict[str, Any], *, at: int | None = None,
                 api_key: bytes = API_V3_KEY, signer: rsa.RSAPrivateKey | None = None) -> tuple[dict[str, str], bytes]:
    """A notification as WeChat Pay sends it: the transaction encrypted, the whole signed by the platform."""
    nonce = os.urandom(6).hex()
    associated = "transaction"
    ciphertext = AESGCM(api_key).encrypt(nonce.encode(), json.dumps(transaction).encode(), associated.encode())
    body = json.dumps({
        "id": "EV-1", "create_time": "2026-11-25T10:00:00+08:00", "event_type": "TRANSACTION.SUCCESS",
        "resource_type": "encrypt-resource",
        "resource": {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
                     "associated_data": associated, "nonce": nonce},
    }).encode()
    timestamp, header_nonce = str(at or int(time.time())), "n0nce"
    signed = (signer or keys.platform).sign(f"{timestamp}\n{header_nonce}\n".encode() + body + b"\n",
                                            padding.PKCS1v15(), hashes.SHA256())
    headers = {"wechatpay-timestamp": timestamp, "wechatpay-nonce": header_nonce,
               "wechatpay-signature": base64.b64encode(signed).decode(), "wechatpay-serial": "PLATFORM-1"}
    return headers, body


async def test_prepay_is_signed_and_the_sheet_parameters_are_too(keys: Keys):
    # given a fake WeChat Pay that checks what it is sent
    seen: list[httpx.Request] = []

    def wechat(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"prepay_id": "wx2611250000abc"})

    provider = WechatPayProvider(keys.config(), httpx.AsyncClient(transport=httpx.MockTransport(wechat)))
    # when
    session = await provider.session(payment(), "jimu order 1", "o-openid-1")
    # then the request is the JSAPI prepay, signed with the merchant key
    [request] = seen
    assert request.method == "POST" and request.url.path == "/v3/pay/transactions/jsapi"
    sent = json.loads(request.content)
    assert sent["amount"] == {"total": 1_000_000, "currency": "CNY"} and sent["payer"] == {"openid": "o-openid-1"}
    assert sent["out_trade_no"] == "jimu-42" and sent["mchid"] == "1900000001" and sent["appid"] == "wx-app"
    auth = request.headers["Authorization"]
    assert auth.startswith("WECHATPAY2-SHA256-RSA2048 ")
    fields = dict(re.findall(r'(\w+)="([^"]*)"', auth))
    assert fields["serial_no"] == "SERIAL-1" and fields["mchid"] == "1900000001"
    message = f"POST\n/v3/pay/transactions/jsapi\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + request.content + b"\n"
    assert verified_by(keys.merchant, message, fields["signature"])
    # and wx.requestPayment gets its parameters, signed the way WeChat checks them
    params = session.client_params
    assert params["package"] == "prepay_id=wx2611250000abc" and params["signType"] == "RSA"
    pay_message = f"wx-app\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    assert verified_by(keys.merchant, pay_message, params["paySign"])


async def test_prepay_refusals_and_a_missing_openid_are_errors(keys: Keys):
    refusing = httpx.MockTransport(lambda r: httpx.Response(400, json={"code": "PARAM_ERROR", "message": "bad"}))
    provider = WechatPayProvider(keys.config(), httpx.AsyncClient(transport=refusing))
    with pytest.raises(WechatPayError):
        await provider.session(payment(), "jimu order 1", "o-openid-1")
    with pytest.raises(PayerUnknown):
        await provider.session(payment(), "jimu order 1", None)


def test_a_genuine_notification_is_verified_and_decrypted(keys: Keys):
    provider = WechatPayProvider(keys.config(), httpx.AsyncClient())
    headers, body = notification(keys, {"out_trade_no": "jimu-42", "transaction_id": "4200001", "mchid": "1900000001",
                                        "trade_state": "SUCCESS", "amount": {"total": 1_000_000, "currency": "CNY"}})
    notice = provider.verify(headers, body)
    assert notice is not None
    assert (notice.payment_id, notice.succeeded, notice.amount, notice.reference) == (42, True, 1_000_000, "4200001")


def test_a_transaction_of_another_merchant_or_of_a_sub_merchant_is_not_this_merchants(keys: Keys):
    # given the deployment's direct merchant, and genuine notices signed by the same platform key
    provider = WechatPayProvider(keys.config(), httpx.AsyncClient())
    paid = {"out_trade_no": "jimu-42", "trade_state": "SUCCESS", "amount": {"total": 1_000_000}}
    # when they name another merchant, no merchant, or a sub-merchant, then each is refused
    for transaction in ({**paid, "mchid": "1900000002"}, paid,
                        {**paid, "sp_mchid": "1900000001", "sub_mchid": "1900000999"},
                        {**paid, "mchid": "1900000001", "sub_mchid": "1900000999"}):
        with pytest.raises(BadNotice, match="not this merchant's"):
            provider.verify(*notification(keys, transaction))
    assert provider.verify(*notification(keys, {**paid, "mchid": "1900000001"})) is not None


def test_forged_tampered_and_stale_notifications_are_rejected(keys: Keys):
    provider = WechatPayProvider(keys.config(), httpx.AsyncClient())
    transaction = {"out_trade_no": "jimu-42", "mchid": "1900000001", "trade_state": "SUCCESS", "amount": {"total": 1_000_000}}
    forger = rsa.generate_private_key(65537, 2048)
    headers, body = notification(keys, transaction, signer=forger)
    with pytest.raises(NoticeRejected):
        provider.verify(headers, body)
    headers, body = notification(keys, transaction)
    with pytest.raises(NoticeRejected):
        provider.verify(headers, body.replace(b"EV-1", b"EV-2"))
    with pytest.raises(NoticeRejected):
        provider.verify(headers, body, now=time.time() + 3600)
    with pytest.raises(NoticeRejected):
        provider.verify({}, body)
    headers, body = notification(keys, transaction, api_key=b"x" * 32)
    with pytest.raises(BadNotice):
        provider.verify(headers, body)


async def test_the_order_query_reconciles_a_silent_payment(keys: Keys):
    def wechat(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        assert request.url.path == "/v3/pay/transactions/out-trade-no/jimu-42"
        assert request.url.params["mchid"] == "1900000001"
        assert request.headers["Authorization"].startswith("WECHATPAY2-SHA256-RSA2048 ")
        return httpx.Response(200, json={"out_trade_no": "jimu-42", "transaction_id": "4200002", "mchid": "1900000001",
                                         "trade_state": "SUCCESS", "amount": {"total": 1_000_000}})

    provider = WechatPayProvider(keys.config(), httpx.AsyncClient(transport=httpx.MockTransport(wechat)))
    notice = await provider.query(payment(42))
    assert notice is not None and notice.succeeded and notice.amount == 1_000_000

    waiting = httpx.MockTransport(lambda r: httpx.Response(200, json={"out_trade_no": "jimu-42", "mchid": "1900000001", "trade_state": "NOTPAY"}))
    assert await WechatPayProvider(keys.config(), httpx.AsyncClient(transport=waiting)).query(payment(42)) is None
