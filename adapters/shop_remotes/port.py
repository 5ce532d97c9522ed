"""Which shops keep their goods or stock in their own systems, where, and the secret jimu signs
its calls with (sealed at rest, as webhook secrets are: ``adapters.webhooks.secrets_at_rest``).

A shop with no row is served from jimu's database. Goods and stock are configured apart: a
shop may keep its catalog in jimu and its stock in its ERP, or both at the merchant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ShopRemote:
    shop_id: int
    shop_handle: str
    goods_url: str | None
    inventory_url: str | None
    secret: str = field(repr=False)  # as stored: sealed
    version: int = 0  # grows with every change


class ShopRemotes(Protocol):
    async def remotes(self) -> list[ShopRemote]:
        """Every shop's that has one (a deployment has few)."""
        ...

    async def put(self, shop_id: int, goods_url: str | None, inventory_url: str | None, secret: str) -> ShopRemote:
        """Set the shop's remotes (``secret`` sealed already), replacing any it had."""
        ...

    async def clear(self, shop_id: int) -> bool:
        """Serve the shop from jimu's database again; False when it had no remotes."""
        ...

    async def reseal(self, change: Callable[[str], str]) -> int:
        """Every secret passed through ``change`` in one transaction; how many."""
        ...
