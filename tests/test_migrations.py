"""The migrations build exactly the tables the models describe."""

from __future__ import annotations

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
