"""A shop's own WeChat: its mini-program (app id and secret) and its WeChat Pay merchant.

A shop without its own uses the deployment's (``JIMU_WECHAT_*``). WeChat Pay is
either a direct merchant of the shop's (its own keys) or a sub-merchant
(特约商户) under the deployment's service-provider merchant, which signs for it.
The store keeps the secrets sealed (``secret_box``); only ``rules`` opens them.

Errors::

    WechatAccountError
    ├── SecretUnreadable   no key in JIMU_SECRET_KEY opens a stored secret (rotated away, or never set)
    └── SecretKeyMissing   JIMU_SECRET_KEY is not set: nothing can be sealed
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class WechatAccountError(Exception):
    pass


class SecretUnreadable(WechatAccountError):
    pass


class SecretKeyMissing(WechatAccountError):
    pass


@dataclass(frozen=True, slots=True)
class MiniProgram:
    app_id: str
    app_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DirectMerchant:
    """A WeChat Pay merchant of the shop's own: it signs its requests and WeChat Pay signs its notices."""

    mch_id: str
    serial_no: str  # the merchant certificate's serial number
    private_key_pem: bytes = field(repr=False)
    platform_public_key_pem: bytes
    api_v3_key: bytes = field(repr=False)  # 32 bytes


@dataclass(frozen=True, slots=True)
class SubMerchant:
    """A sub-merchant under the deployment's service-provider merchant (WeChat Pay's partner API)."""

    sub_mch_id: str
    sub_app_id: str | None = None  # default: the shop's own mini-program, when it has one


@dataclass(frozen=True, slots=True)
class WechatAccount:
    shop_id: int
    app: MiniProgram | None = None
    merchant: DirectMerchant | SubMerchant | None = None
    version: int = 0  # grows with every change: a worker's providers for an older version are stale


@dataclass(frozen=True, slots=True)
class SealedAccount:
    """A shop's WeChat as stored: the app secret, private key and APIv3 key sealed, the rest plain."""

    shop_id: int
    app_id: str | None = None
    app_secret: str | None = None
    mch_id: str | None = None
    serial_no: str | None = None
    private_key: str | None = None
    platform_key: str | None = None  # a public key: not secret
    api_v3_key: str | None = None
    sub_mch_id: str | None = None
    sub_app_id: str | None = None
    version: int = 0


SEALED_FIELDS = ("app_secret", "private_key", "api_v3_key")


@dataclass(frozen=True, slots=True)
class Resealed:
    shops: int
    secrets: int


class WechatAccounts(Protocol):
    """Keeps each shop's WeChat, sealed."""

    async def accounts_of(self, shop_ids: Sequence[int]) -> list[SealedAccount | None]: ...

    async def put(self, account: SealedAccount) -> SealedAccount:
        """Replace the shop's WeChat; the stored one, its version one more than before."""
        ...

    async def clear(self, shop_id: int) -> bool:
        """Forget the shop's WeChat; False when it had none."""
        ...

    async def reseal(self, change: Callable[[str], str]) -> Resealed:
        """Every sealed secret passed through ``change``, in one transaction: all or nothing
        (an exception from ``change`` leaves every secret as it was)."""
        ...
