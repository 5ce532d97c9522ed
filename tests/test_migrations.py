"""The migrations build exactly the tables the models describe."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters.db import Database
from gateway.tables import metadata


async def test_migrated_database_matches_the_models(db: Database):
    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_going_back_before_key_records_drops_the_revoked_keys(tmp_path):
    # given a database at head with a shop whose first secret key was revoked for a new one
    from alembic import command
    from sqlalchemy import text

    from adapters.db import utcnow
    from adapters.shops.port import KeyKind
    from adapters.shops.sql import SqlShopStore
    from gateway.migrate import alembic_config, upgrade

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'back.db'}")
    try:
        await upgrade(db)
        shops = SqlShopStore(db)
        shop = await shops.create_shop("back", "Back", {KeyKind.PUBLISHABLE: "p" * 64, KeyKind.SECRET: "s" * 64})
        await shops.add_key(shop.id, KeyKind.SECRET, "t" * 64, "tttt")
        [_, old, _] = await shops.keys_of(shop.id)
        await shops.revoke_key(old.id, utcnow())
        # when the schema goes back to before 0010
        async with db.engine.connect() as conn:
            await conn.execution_options(jimu_write=True)
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0009"))
            await conn.commit()
            hashes = sorted(row[0] for row in await conn.execute(text("SELECT key_hash FROM shop_key")))
        # then the revoked key is gone (older code would take it again), the others stay
        assert hashes == ["p" * 64, "t" * 64]
    finally:
        await db.dispose()


async def test_orders_placed_before_line_snapshots_are_given_the_names_the_goods_hold(tmp_path):
    # given a database with an order, taken back to before order lines kept their names
    from alembic import command
    from sqlalchemy import text

    from gateway.migrate import alembic_config, upgrade
    from gateway.settings import Settings
    from gateway.wiring import sql_adapters
    from tests.conftest import api_client, load_demo
    from tests.stories import sell_diapers

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'lines.db'}", response_cache_seconds=0,
                        reference_cache_seconds=0)
    db = Database(settings.database_url)

    async def lines() -> list[dict]:
        async with db.engine.connect() as conn:
            [(stored,)] = (await conn.execute(text("SELECT lines FROM orders"))).all()
        return json.loads(stored) if isinstance(stored, str) else stored

    async def migrate(command_to, revision: str) -> None:
        async with db.engine.connect() as conn:
            await conn.execution_options(jimu_write=True)
            await conn.run_sync(lambda sync: command_to(alembic_config(sync), revision))
            await conn.commit()

    try:
        await upgrade(db)
        adapters = sql_adapters(settings, db)
        await load_demo(adapters)
        async with api_client(settings, adapters) as client:
            await sell_diapers(client, 2)
        [placed] = await lines()
        assert (placed["title"], placed["sku_title"], placed["sku_code"]) == ("云柔纸尿裤", "L 码 54 片", "DIAPER-L54")
        await migrate(command.downgrade, "0012")
        [before] = await lines()
        assert "title" not in before and before["quantity"] == 2  # as 0012's code reads them
        # when it comes forward again, then each line is named from its SKU and product
        await migrate(command.upgrade, "head")
        assert await lines() == [placed]
    finally:
        await db.dispose()
