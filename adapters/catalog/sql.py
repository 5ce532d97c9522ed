"""SQL catalog store: the whole file in one write transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from adapters.catalog.entries import CatalogFile
from adapters.catalog.format import parse_catalog
from adapters.catalog.history import history_conflicts
from adapters.catalog.port import (
    CatalogConflict,
    Edit,
    Fresh,
    ImportReport,
    Outcome,
    StockMode,
    StockOutcome,
    StockReport,
)
from adapters.catalog.rows import (
    campaign_spec,
    product_values,
    sku_values,
    stock_lines,
    stock_outcome,
    stock_refusal,
    taken_places,
    template_spec,
    tier_config,
)
from adapters.catalog.stored import stored_catalog
from adapters.coupons.sql import CouponTemplateRow, template_from_row, template_values
from adapters.db import Database, utcnow
from adapters.delivery.sql import DeliveryTierRow, tier_values
from adapters.goods.port import Product
from adapters.goods.records import category_from_row, product_from_row, sku_from_row
from adapters.goods.sql import CategoryRow, ProductRow, SkuRow
from adapters.inventory.port import Warehouse
from adapters.inventory.sql import (
    StockRow,
    WarehouseRow,
    create_stock,
    receive_stock,
    set_on_hand,
)
from adapters.members.sql import (
    AssistRow,
    CampaignRow,
    campaign_from_row,
    campaign_values,
)
from adapters.shops.port import KeyKind
from adapters.shops.rules import hash_key, hint_of
from adapters.shops.sql import ShopKeyRow, ShopRow, shop_from_row

_Row = TypeVar("_Row", bound=SQLModel)


class SqlCatalogStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def apply(
        self,
        catalog: CatalogFile,
        now: datetime,
        progress: Callable[[], None] | None = None,
        *,
        stock: StockMode = StockMode.KEEP,
        fresh: Fresh = Fresh(),
    ) -> ImportReport:
        report = ImportReport(shop_handle=catalog.shop.handle, stock=StockReport(stock))
        try:
            async with self._db.write() as session:
                await self._apply(session, catalog, now, progress, report, fresh)
        except IntegrityError:
            if taken := await self._raced(catalog, fresh):
                raise CatalogConflict(taken) from None
            raise
        return report

    async def revise(self, shop_id: int, product_id: int, edit: Edit, now: datetime, *,
                     fresh: Fresh = Fresh()) -> Product | None:
        catalog = None
        try:
            async with self._db.write() as session:
                # Held to the end (FOR UPDATE on PostgreSQL; on SQLite, BEGIN IMMEDIATE holds
                # every write): a revision made meanwhile waits, then reads what this one wrote.
                # The shop first, as every catalog write takes it (_shop), so none waits in a cycle.
                await session.execute(select(ShopRow.id).where(ShopRow.id == shop_id).with_for_update(key_share=True))
                product = (await session.scalars(select(ProductRow).where(
                    ProductRow.shop_id == shop_id, ProductRow.id == product_id).with_for_update())).first()
                if product is None:
                    return None
                catalog = parse_catalog(edit(await _stored(session, product)), now)
                report = ImportReport(shop_handle=catalog.shop.handle)
                await self._apply(session, catalog, now, None, report, fresh)
                await session.flush()
                return product_from_row(product)
        except IntegrityError:
            if catalog is not None and (taken := await self._raced(catalog, fresh)):
                raise CatalogConflict(taken) from None
            raise

    async def archive(self, shop_id: int, product_id: int, at: datetime | None) -> Product | None:
        async with self._db.write() as session:
            product = (await session.scalars(select(ProductRow).where(
                ProductRow.shop_id == shop_id, ProductRow.id == product_id).with_for_update())).first()
            if product is None:
                return None
            if (product.archived_at is None) != (at is None):
                product.archived_at, product.updated_at = at, at or utcnow()
            await session.flush()
            return product_from_row(product)

    async def _raced(self, catalog: CatalogFile, fresh: Fresh) -> list[tuple[str, str]]:
        """After a unique key clashed at commit: the fresh keys another writer took meanwhile
        (PostgreSQL's read committed lets two creators both pass the check)."""
        async with self._db.write() as session:
            shop = (await session.scalars(select(ShopRow).where(ShopRow.handle == catalog.shop.handle))).first()
            return await _taken(session, catalog, shop.id, fresh) if shop and shop.id else []

    async def _apply(self, session: AsyncSession, catalog: CatalogFile, now: datetime,
                     progress: Callable[[], None] | None, report: ImportReport, fresh: Fresh) -> None:
        shop = await self._shop(session, catalog, report)
        assert shop.id is not None
        conflicts = await self._keys(session, catalog, shop.id, report)
        if taken := await _taken(session, catalog, shop.id, fresh):
            raise CatalogConflict(taken)
        history = await _history(session, catalog, shop.id, now)  # before anything it names is written
        categories = await self._categories(session, catalog, shop.id, report)
        warehouses = await self._warehouses(session, catalog, shop.id, report)
        skus = await self._products(session, catalog, shop.id, categories, now, report, progress)
        conflicts += await self._stock(session, catalog, shop.id, warehouses, skus, report)
        await self._delivery(session, catalog, shop.id, report)
        if history:
            conflicts += history  # the templates and campaigns are left as they are
        else:
            templates = await self._coupons(session, catalog, shop.id, skus, categories, now, report)
            await self._campaigns(session, catalog, shop.id, templates, now, report)
        if conflicts:
            raise CatalogConflict(conflicts)  # leaving the transaction rolls every write back

    async def _shop(self, session: AsyncSession, c: CatalogFile, report: ImportReport) -> ShopRow:
        # Held to the end (SQLite's BEGIN IMMEDIATE holds every write): two writes of one shop's
        # catalog go one after the other, so the second sees what the first committed before it
        # checks its fresh handles and codes and before it reads what to update. Under read
        # committed, a product created meanwhile was otherwise updated by the second creator,
        # both answering "created". FOR NO KEY UPDATE, not FOR UPDATE: every insert of a row that
        # names the shop (a coupon claimed, a cart, an order, a reservation) takes the shop's KEY
        # SHARE lock for its foreign key, which FOR UPDATE would make wait for the whole import,
        # and a writer holding a row the import wants next would wait in a cycle.
        existing = (await session.scalars(select(ShopRow).where(
            ShopRow.handle == c.shop.handle).with_for_update(key_share=True))).first()
        values = {"name": c.shop.name, "online_payment_cap": c.shop.onlinePaymentCap}
        row, outcome = _upsert(session, existing, ShopRow, {"handle": c.shop.handle}, values)
        report.record("shops", outcome)
        await session.flush()
        return row

    async def _keys(
        self, session: AsyncSession, c: CatalogFile, shop_id: int, report: ImportReport
    ) -> list[tuple[str, str]]:
        conflicts: list[tuple[str, str]] = []
        if c.shop.keys is None:
            return conflicts
        wanted = {KeyKind.PUBLISHABLE: c.shop.keys.publishable, KeyKind.SECRET: c.shop.keys.secret}
        for kind, key in wanted.items():
            if key is None:
                continue
            key_hash = hash_key(key)
            held = (await session.scalars(select(ShopKeyRow).where(ShopKeyRow.key_hash == key_hash))).first()
            if held is not None and (held.shop_id != shop_id or held.kind != kind.value):
                conflicts.append((f"shop.keys.{kind.value}", "this key belongs to another shop"))
                continue
            if held is None:
                session.add(ShopKeyRow(shop_id=shop_id, kind=kind.value, key_hash=key_hash, hint=hint_of(key)))
            elif held.hint is None:
                held.hint = hint_of(key)  # a key made before hints were kept: the file holds it
            report.record("keys", "unchanged" if held else "created")
        return conflicts

    async def _categories(
        self, session: AsyncSession, c: CatalogFile, shop_id: int, report: ImportReport
    ) -> dict[str, int]:
        existing = await _by(session, CategoryRow, shop_id, "handle")
        rows: dict[str, CategoryRow] = {}
        outcomes: dict[str, Outcome] = {}
        for entry in c.categories:
            rows[entry.handle], outcomes[entry.handle] = _upsert(
                session, existing.get(entry.handle), CategoryRow,
                {"shop_id": shop_id, "handle": entry.handle}, {"name": entry.name},
            )
        await session.flush()  # parents need ids
        for entry in c.categories:
            parent_id = rows[entry.parent].id if entry.parent else None
            _, moved = _upsert(session, rows[entry.handle], CategoryRow, {}, {"parent_id": parent_id})
            report.record("categories", _merged(outcomes[entry.handle], moved))
        return {handle: row.id for handle, row in {**existing, **rows}.items() if row.id is not None}

    async def _warehouses(
        self, session: AsyncSession, c: CatalogFile, shop_id: int, report: ImportReport
    ) -> dict[str, int]:
        existing = await _by(session, WarehouseRow, shop_id, "code")
        rows = {}
        for entry in c.warehouses:
            rows[entry.code], outcome = _upsert(
                session, existing.get(entry.code), WarehouseRow,
                {"shop_id": shop_id, "code": entry.code}, {"regions": list(entry.regions)},
            )
            report.record("warehouses", outcome)
        await session.flush()
        return {code: row.id for code, row in rows.items() if row.id is not None}

    async def _stock(
        self,
        session: AsyncSession,
        c: CatalogFile,
        shop_id: int,
        warehouses: dict[str, int],
        skus: dict[str, int],
        report: ImportReport,
    ) -> list[tuple[str, str]]:
        """Writes the file's stock lines as the mode says, or none of them: the lines refused."""
        mode = report.stock.mode
        rows = select(StockRow).where(StockRow.shop_id == shop_id)
        if mode is not StockMode.KEEP:
            # Held until commit, in the order reservations lock them: no checkout moves them meanwhile.
            rows = rows.order_by(StockRow.sku_id, StockRow.warehouse_id).with_for_update()
        held = {(r.sku_id, r.warehouse_id): (r.on_hand, r.reserved, r.sold) for r in await session.scalars(rows)}
        lines = [((skus[line.sku_code], warehouses[line.warehouse_code]), line) for line in stock_lines(c)]
        refused = [(line.path, why) for key, line in lines if (why := stock_refusal(mode, line.figure, held.get(key)))]
        if refused:
            return refused
        for key, line in sorted(lines, key=lambda pair: pair[0]):  # in the order of the locks
            outcome = stock_outcome(mode, line.figure, held.get(key))
            if not await self._write_stock(session, shop_id, key, outcome, line.figure):
                return [(line.path, "this stock row changed during the import: import the file again")]
            report.stock.record(outcome, line.figure)
        return []

    async def _write_stock(
        self, session: AsyncSession, shop_id: int, key: tuple[int, int], outcome: StockOutcome, figure: int
    ) -> bool:
        match outcome:
            case "created":
                return await create_stock(session, self._db, shop_id, *key, figure)
            case "changed":
                return await set_on_hand(session, *key, figure)
            case "received":
                return await receive_stock(session, *key, figure)
        return True

    async def _products(
        self,
        session: AsyncSession,
        c: CatalogFile,
        shop_id: int,
        categories: dict[str, int],
        now: datetime,
        report: ImportReport,
        progress: Callable[[], None] | None,
    ) -> dict[str, int]:
        products = await _by(session, ProductRow, shop_id, "handle")
        skus = await _by(session, SkuRow, shop_id, "code")
        written: dict[str, SkuRow] = {}
        for entry in c.products:
            category_id = categories[entry.category] if entry.category else None
            product, outcome = _upsert(
                session, products.get(entry.handle), ProductRow,
                {"shop_id": shop_id, "handle": entry.handle, "created_at": now},
                product_values(entry, category_id),
            )
            if outcome == "updated":
                product.updated_at = now
            report.record("products", outcome)
            await session.flush()
            assert product.id is not None
            for position, sku in enumerate(entry.skus):
                written[sku.code], sku_outcome = _upsert(
                    session, skus.get(sku.code), SkuRow,
                    {"shop_id": shop_id, "code": sku.code}, sku_values(sku, product.id, position),
                )
                report.record("skus", sku_outcome)
            if progress is not None:
                progress()
        await session.flush()
        return {code: row.id for code, row in written.items() if row.id is not None}

    async def _delivery(self, session: AsyncSession, c: CatalogFile, shop_id: int, report: ImportReport) -> None:
        existing = await _by(session, DeliveryTierRow, shop_id, "tier")
        for entry in c.delivery.tiers:
            _, outcome = _upsert(
                session, existing.get(entry.tier), DeliveryTierRow,
                {"shop_id": shop_id, "tier": entry.tier}, tier_values(tier_config(entry)),
            )
            report.record("delivery tiers", outcome)

    async def _coupons(
        self,
        session: AsyncSession,
        c: CatalogFile,
        shop_id: int,
        skus: dict[str, int],
        categories: dict[str, int],
        now: datetime,
        report: ImportReport,
    ) -> dict[str, int]:
        existing = await _by(session, CouponTemplateRow, shop_id, "code")
        rows = {}
        for entry in c.coupons:
            old = existing.get(entry.code)
            spec = template_spec(entry, now, skus, categories, template_from_row(old).spec if old else None)
            rows[entry.code], outcome = _upsert(
                session, old, CouponTemplateRow, {"shop_id": shop_id, "code": entry.code, "issued": 0},
                template_values(spec),
            )
            report.record("coupon templates", outcome)
        await session.flush()
        return {code: row.id for code, row in {**existing, **rows}.items() if row.id is not None}

    async def _campaigns(
        self, session: AsyncSession, c: CatalogFile, shop_id: int, templates: dict[str, int], now: datetime,
        report: ImportReport,
    ) -> None:
        existing = await _by(session, CampaignRow, shop_id, "code")
        for entry in c.campaigns:
            old = existing.get(entry.code)
            spec = campaign_spec(entry, now, templates, campaign_from_row(old).spec if old else None)
            _, outcome = _upsert(session, old, CampaignRow, {"shop_id": shop_id, "code": entry.code},
                                 campaign_values(spec))
            report.record("campaigns", outcome)


async def _history(session: AsyncSession, c: CatalogFile, shop_id: int, now: datetime) -> list[tuple[str, str]]:
    """What the file would change of templates with coupons issued and campaigns with assists
    started (adapters/catalog/history.py). The rows it names are held to the end, so a claim or
    an assist starting meanwhile waits and then meets what the import wrote."""
    if not (c.coupons or c.campaigns):
        return []
    codes = {e.code for e in c.coupons} | {code for e in c.campaigns
                                           for code in (e.rewardTemplateCode, e.assisterRewardTemplateCode) if code}
    # Campaigns before templates, the order a help takes them in (its campaign, then the reward's template).
    campaigns = {row.code: campaign_from_row(row) for row in (await session.scalars(
        select(CampaignRow).where(CampaignRow.shop_id == shop_id, CampaignRow.code.in_([e.code for e in c.campaigns]))
        .order_by(CampaignRow.id).with_for_update())).all()}
    templates = {row.code: template_from_row(row) for row in (await session.scalars(
        select(CouponTemplateRow).where(CouponTemplateRow.shop_id == shop_id, CouponTemplateRow.code.in_(codes))
        .order_by(CouponTemplateRow.id).with_for_update())).all()}
    started = set((await session.scalars(select(AssistRow.campaign_id).distinct().where(
        AssistRow.campaign_id.in_([cm.id for cm in campaigns.values()])))).all()) if campaigns else set()
    sku_codes = {code for e in c.coupons for code in e.skuCodes or ()}
    skus = dict((await session.execute(select(SkuRow.code, SkuRow.id).where(
        SkuRow.shop_id == shop_id, SkuRow.code.in_(sku_codes)))).all()) if sku_codes else {}
    handles = {e.categoryHandle for e in c.coupons if e.categoryHandle}
    categories = dict((await session.execute(select(CategoryRow.handle, CategoryRow.id).where(
        CategoryRow.shop_id == shop_id, CategoryRow.handle.in_(handles)))).all()) if handles else {}
    return history_conflicts(c, now, templates, campaigns, started, skus, categories)


async def _taken(session: AsyncSession, c: CatalogFile, shop_id: int, fresh: Fresh) -> list[tuple[str, str]]:
    """The places of the file's fresh handles and codes that the shop holds already."""
    if not (fresh.handles or fresh.codes):
        return []
    handles = set((await session.scalars(select(ProductRow.handle).where(
        ProductRow.shop_id == shop_id, ProductRow.handle.in_(fresh.handles)))).all())
    codes = set((await session.scalars(select(SkuRow.code).where(
        SkuRow.shop_id == shop_id, SkuRow.code.in_(fresh.codes)))).all())
    return taken_places(c, handles, codes)


async def _stored(session: AsyncSession, product: ProductRow) -> dict[str, Any]:
    """The file of one stored product, read in the session holding it."""
    shop_id = product.shop_id
    shop = await session.get(ShopRow, shop_id)
    categories = (await session.scalars(
        select(CategoryRow).where(CategoryRow.shop_id == shop_id).order_by(CategoryRow.id))).all()
    warehouses = (await session.scalars(
        select(WarehouseRow).where(WarehouseRow.shop_id == shop_id).order_by(WarehouseRow.code))).all()
    skus = (await session.scalars(
        select(SkuRow).where(SkuRow.product_id == product.id).order_by(SkuRow.position, SkuRow.id))).all()
    return stored_catalog(shop_from_row(shop), [category_from_row(c) for c in categories],
                          [Warehouse(w.code, tuple(w.regions)) for w in warehouses], product_from_row(product),
                          [sku_from_row(s) for s in skus])


def _merged(first: Outcome, then: Outcome) -> Outcome:
    """One row written in two steps: created if the first step created it."""
    return first if first == "created" or then == "unchanged" else then


async def _by(session: AsyncSession, model: type[_Row], shop_id: int, key: str) -> dict[str, _Row]:
    rows: Sequence[Any] = (await session.scalars(select(model).where(model.shop_id == shop_id))).all()  # type: ignore[attr-defined]
    return {getattr(row, key): row for row in rows}


def _upsert(
    session: AsyncSession,
    existing: _Row | None,
    model: type[_Row],
    identity: dict[str, Any],
    values: dict[str, Any],
) -> tuple[_Row, Outcome]:
    """Insert, or update only the fields that differ, so a second import writes nothing."""
    if existing is None:
        row = model(**identity, **values)
        session.add(row)
        return row, "created"
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    for name, value in changed.items():
        setattr(existing, name, value)
    return existing, "updated" if changed else "unchanged"
