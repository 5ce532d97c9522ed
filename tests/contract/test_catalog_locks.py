"""A catalog import beside the writers of the rows it names, each caught holding its first lock
while the import starts: on PostgreSQL none may wait for the other in a cycle (the deadlock
detector would kill one), and both finish. On SQLite the write transactions take turns."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from adapters.catalog.format import parse_catalog
from adapters.catalog.port import StockMode
from adapters.coupons.port import Source
from adapters.db import utcnow
from adapters.inventory.port import WantedLine
from adapters.inventory.sql import SqlInventory
from gateway.demo import demo_files
from gateway.wiring import Adapters
from tests.factories import load_json

HOLD = 0.5  # how long the rival keeps its first lock once the import has started


def panda_file() -> dict[str, Any]:
    [path] = [p for p in demo_files() if p.stem == "panda"]
    return load_json(path)


def held(original: Callable[..., Awaitable[Any]], holding: asyncio.Event) -> Callable[..., Awaitable[Any]]:
    """``original``, entered the first time only after telling ``holding`` and waiting HOLD."""

    async def slowed(*args: Any, **kwargs: Any) -> Any:
        if not holding.is_set():
            holding.set()
            await asyncio.sleep(HOLD)
        return await original(*args, **kwargs)

    return slowed


async def beside_an_import(demo: Adapters, rival: Awaitable[Any], holding: asyncio.Event,
                           stock: StockMode = StockMode.KEEP) -> None:
    async def import_once_held() -> None:
        await holding.wait()
        now = utcnow()
        await demo.catalog.apply(parse_catalog(panda_file(), now), now, stock=stock)

    await asyncio.wait_for(asyncio.gather(rival, import_once_held()), timeout=20)


async def test_a_claim_holding_its_template_and_an_import_both_finish(demo: Adapters, monkeypatch: pytest.MonkeyPatch):
    # given a claim of WELCOME-20 that holds the template's row lock, then inserts its coupon
    # (whose foreign key asks for the shop row the import holds)
    holding = asyncio.Event()
    import adapters.coupons.sql as coupons_sql
    monkeypatch.setattr(coupons_sql, "issue", held(coupons_sql.issue, holding))
    [panda] = await demo.shops.shops_by_handle(["panda-care"])
    [welcome] = await demo.coupons.templates_by_code(panda.id, ["WELCOME-20"])
    # when the import of Panda's file (which names the template) starts meanwhile
    await beside_an_import(demo, demo.coupons.claim(panda.id, welcome.id, 1, utcnow(), Source.CLAIM), holding)
    # then the coupon was issued and the import went through
    [after] = await demo.coupons.templates_by_code(panda.id, ["WELCOME-20"])
    assert after is not None and after.issued == 1


async def test_a_help_holding_its_campaign_and_an_import_both_finish(demo: Adapters, monkeypatch: pytest.MonkeyPatch):
    # given an assist, and a help holding the campaign (FOR SHARE)
    # while it goes on to lock the template of the helper's reward
    [panda] = await demo.shops.shops_by_handle(["panda-care"])
    [campaign] = await demo.members.campaigns_by_code(panda.id, ["PANDA-ASSIST-50"])
    await demo.members.follow(panda.id, 1)
    await demo.members.join(panda.id, 1)
    assist = await demo.members.start_assist(panda.id, campaign.id, 1, utcnow())
    holding = asyncio.Event()
    import adapters.members.sql as members_sql
    monkeypatch.setattr(members_sql, "template_in", held(members_sql.template_in, holding))
    # when the import (which names the campaign and its templates) starts meanwhile
    await beside_an_import(demo, demo.members.help_assist(panda.id, assist.id, 2, utcnow()), holding)
    # then the help counted and the import went through
    [after] = await demo.members.assists_by_id(panda.id, [assist.id], utcnow())
    assert after is not None and after.count == 1


async def test_a_reservation_holding_its_stock_and_an_import_setting_stock_both_finish(
        demo: Adapters, monkeypatch: pytest.MonkeyPatch):
    # given a reservation that holds its stock rows, then inserts its tally and lines (whose
    # foreign keys ask for the shop row the import holds)
    holding = asyncio.Event()
    monkeypatch.setattr(SqlInventory, "_tally", held(SqlInventory._tally, holding))
    [panda] = await demo.shops.shops_by_handle(["panda-care"])
    [diapers] = await demo.goods.skus_by_code(panda.id, ["DIAPER-L54"])
    reserving = demo.inventory.reserve(panda.id, "JM-LOCKS", 1, "1_72_2799_0", [WantedLine(diapers.id, 1)],
                                       utcnow() + timedelta(minutes=5))
    # when an import that sets the file's stock figures (those rows too) starts meanwhile
    await beside_an_import(demo, reserving, holding, StockMode.SET)
    # then both went through: the unit is held
    held_now = await demo.inventory.reservation_by_ref(panda.id, "JM-LOCKS")
    assert held_now is not None and [line.quantity for line in held_now.lines] == [1]
