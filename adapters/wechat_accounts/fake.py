"""In-memory WeChat accounts for tests: same behaviour as the SQL store, no database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from adapters.wechat_accounts.port import SEALED_FIELDS, Resealed, SealedAccount


class FakeWechatAccounts:
    def __init__(self) -> None:
        self.accounts: dict[int, SealedAccount] = {}

    async def accounts_of(self, shop_ids: Sequence[int]) -> list[SealedAccount | None]:
        return [self.accounts.get(shop_id) for shop_id in shop_ids]

    async def put(self, account: SealedAccount) -> SealedAccount:
        before = self.accounts.get(account.shop_id)
        stored = replace(account, version=(before.version if before else 0) + 1)
        self.accounts[account.shop_id] = stored
        return stored

    async def clear(self, shop_id: int) -> bool:
        return self.accounts.pop(shop_id, None) is not None

    async def reseal(self, change: Callable[[str], str]) -> Resealed:
        changed, count = {}, 0
        for shop_id, account in self.accounts.items():  # all changed first, then stored: all or nothing
            fields = {name: change(value) for name in SEALED_FIELDS if (value := getattr(account, name))}
            if fields:
                changed[shop_id] = replace(account, **fields)
                count += len(fields)
        self.accounts.update(changed)
        return Resealed(len(changed), count)
