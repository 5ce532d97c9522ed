"""Checking a shop's WeChat before it is stored, and sealing and opening it."""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.wechat_accounts.port import (
    DirectMerchant,
    MiniProgram,
    SealedAccount,
    SubMerchant,
    WechatAccount,
)
from adapters.wechat_accounts.secret_box import SecretBox

APP_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
APP_SECRET = re.compile(r"^[\x21-\x7e]{1,128}$")
MCH_ID = re.compile(r"^[0-9]{1,32}$")
SERIAL_NO = re.compile(r"^[A-Za-z0-9]{1,64}$")


def problems(account: WechatAccount) -> list[tuple[str, str]]:
    """(field, reason) for everything WeChat would refuse; empty when the account can be stored."""
    found = []
    if account.app is not None:
        if not APP_ID.fullmatch(account.app.app_id):
            found.append(("app_id", "1 to 32 letters, digits, - or _ (e.g. wx0123456789abcdef)"))
        if not APP_SECRET.fullmatch(account.app.app_secret):
            found.append(("app_secret", "1 to 128 printable characters without spaces"))
    merchant = account.merchant
    if isinstance(merchant, DirectMerchant):
        if not MCH_ID.fullmatch(merchant.mch_id):
            found.append(("mch_id", "the merchant id is 1 to 32 digits"))
        if not SERIAL_NO.fullmatch(merchant.serial_no):
            found.append(("serial_no", "the certificate serial number is 1 to 64 letters and digits"))
        if len(merchant.api_v3_key) != 32:
            found.append(("api_v3_key", "the APIv3 key is 32 bytes"))
        if not _rsa(merchant.private_key_pem, private=True):
            found.append(("private_key", "not an unencrypted RSA private key in PEM"))
        if not _rsa(merchant.platform_public_key_pem, private=False):
            found.append(("platform_key", "not an RSA public key in PEM (WeChat Pay's platform public key)"))
    elif isinstance(merchant, SubMerchant):
        if not MCH_ID.fullmatch(merchant.sub_mch_id):
            found.append(("sub_mch_id", "the sub-merchant id is 1 to 32 digits"))
        if merchant.sub_app_id is not None and not APP_ID.fullmatch(merchant.sub_app_id):
            found.append(("sub_app_id", "1 to 32 letters, digits, - or _"))
    return found


def seal(account: WechatAccount, box: SecretBox) -> SealedAccount:
    app, merchant = account.app, account.merchant
    direct = merchant if isinstance(merchant, DirectMerchant) else None
    sub = merchant if isinstance(merchant, SubMerchant) else None
    return SealedAccount(
        shop_id=account.shop_id,
        app_id=app.app_id if app else None,
        app_secret=box.seal(app.app_secret.encode()) if app else None,
        mch_id=direct.mch_id if direct else None,
        serial_no=direct.serial_no if direct else None,
        private_key=box.seal(direct.private_key_pem) if direct else None,
        platform_key=direct.platform_public_key_pem.decode() if direct else None,
        api_v3_key=box.seal(direct.api_v3_key) if direct else None,
        sub_mch_id=sub.sub_mch_id if sub else None,
        sub_app_id=sub.sub_app_id if sub else None,
        version=account.version,
    )


def open_sealed(sealed: SealedAccount, box: SecretBox) -> WechatAccount:
    """The account with its secrets opened; SecretUnreadable when no key opens one."""
    app = None
    if sealed.app_id and sealed.app_secret:
        app = MiniProgram(sealed.app_id, box.open(sealed.app_secret).decode())
    merchant: DirectMerchant | SubMerchant | None = None
    if sealed.mch_id and sealed.private_key and sealed.api_v3_key:
        merchant = DirectMerchant(sealed.mch_id, sealed.serial_no or "", box.open(sealed.private_key),
                                  (sealed.platform_key or "").encode(), box.open(sealed.api_v3_key))
    elif sealed.sub_mch_id:
        merchant = SubMerchant(sealed.sub_mch_id, sealed.sub_app_id)
    return WechatAccount(sealed.shop_id, app, merchant, sealed.version)


def _rsa(pem: bytes, private: bool) -> bool:
    try:
        key = (serialization.load_pem_private_key(pem, password=None) if private
               else serialization.load_pem_public_key(pem))
    except (ValueError, TypeError):
        return False
    return isinstance(key, rsa.RSAPrivateKey if private else rsa.RSAPublicKey)
