"""In-memory catalog store writing into the fake shop store and goods catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

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
from adapters.delivery.fake import FakeDelivery
from adapters.goods.fake import FakeGoodsCatalog
from adapters.goods.port import Category, Product
from adapters.goods.records import product_from_row, sku_from_row
from adapters.inventory.fake import FakeInventory
from adapters.inventory.port import Warehouse
from adapters.members.fake import FakeMembers
from adapters.shops.fake import FakeShopStore
from adapters.shops.port import KeyKind, Shop, ShopPolicy
from adapters.shops.rules import hash_key, hint_of


class FakeCatalogStore:
    def __init__(
        self,
        shops: FakeShopStore,
        goods: FakeGoodsCatalog,
        inventory: FakeInventory,
        delivery: FakeDelivery,
        members: FakeMembers,
    ) -> None:
        self.shops = shops
        self.goods = goods
        self.inventory = inventory
        self.delivery = delivery
        self.members = members
        self.coupons = members.coupons

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
        existing = next((s for s in self.shops.shops.values() if s.handle == catalog.shop.handle), None)
        shop_id = existing.id if existing else self.shops.next_id()
        if taken := self._taken(catalog, shop_id, fresh):
            raise CatalogConflict(taken)
        # Every clash is found before anything is written, as the SQL store's rollback would ensure.
        conflicts = (self._key_conflicts(catalog, shop_id) + self._stock_refusals(catalog, shop_id, stock)
                     + self._history_conflicts(catalog, shop_id, now))
        if conflicts:
            raise CatalogConflict(conflicts)
        shop = self._shop(catalog, existing, shop_id, report)
        self._keys(catalog, shop.id, report)
        categories = self._categories(catalog, shop.id, report)
        for entry in catalog.warehouses:
            key = (shop.id, entry.code)
            outcome = _outcome(self.inventory.served.get(key), list(entry.regions))
            self.inventory.served[key] = list(entry.regions)
            report.record("warehouses", outcome)
        self._products(catalog, shop.id, categories, now, report, progress)
        self._stock(catalog, shop.id, report)
        for entry in catalog.delivery.tiers:
            config = tier_config(entry)
            report.record("delivery tiers", _outcome(self.delivery.tiers.get((shop.id, config.tier)), config))
            self.delivery.tiers[(shop.id, config.tier)] = config
        self._coupons_and_campaigns(catalog, shop.id, categories, now, report)
        return report

    async def revise(self, shop_id: int, product_id: int, edit: Edit, now: datetime, *,
                     fresh: Fresh = Fresh()) -> Product | None:
        product = self.goods.products.get(product_id)
        if product is None or product.shop_id != shop_id:
            return None
        categories = sorted((c for c in self.goods.categories_.values() if c.shop_id == shop_id), key=lambda c: c.id)
        warehouses = [Warehouse(code, tuple(regions)) for (held_by, code), regions in sorted(self.inventory.served.items())
                      if held_by == shop_id]
        [skus] = await self.goods.skus_by_product(shop_id, [product_id])
        data = stored_catalog(self.shops.shops[shop_id], categories, warehouses, product, skus)
        await self.apply(parse_catalog(edit(data), now), now, fresh=fresh)
        return self.goods.products[product_id]

    async def archive(self, shop_id: int, product_id: int, at: datetime | None) -> Product | None:
        product = self.goods.products.get(product_id)
        if product is None or product.shop_id != shop_id:
            return None
        if (product.archived_at is None) != (at is None):
            self.goods.products[product_id] = product = replace(product, archived_at=at)
        return product

    def _history_conflicts(self, c: CatalogFile, shop_id: int, now: datetime) -> list[tuple[str, str]]:
        templates = {t.spec.code: t for t in self.coupons.templates.values() if t.shop_id == shop_id}
        campaigns = {cm.spec.code: cm for cm in self.members.campaigns.values() if cm.shop_id == shop_id}
        started = {a.campaign_id for a in self.members.assists.values()}
        skus = {s.code: s.id for s in self.goods.skus.values() if s.shop_id == shop_id}
        categories = {cat.handle: cat.id for cat in self.goods.categories_.values() if cat.shop_id == shop_id}
        return history_conflicts(c, now, templates, campaigns, started, skus, categories)

    def _taken(self, c: CatalogFile, shop_id: int, fresh: Fresh) -> list[tuple[str, str]]:
        handles = {p.handle for p in self.goods.products.values() if p.shop_id == shop_id} & fresh.handles
        codes = {s.code for s in self.goods.skus.values() if s.shop_id == shop_id} & fresh.codes
        return taken_places(c, handles, codes)

    def _shop(self, c: CatalogFile, existing: Shop | None, shop_id: int, report: ImportReport) -> Shop:
        wanted = Shop(shop_id, c.shop.handle, c.shop.name, c.shop.onlinePaymentCap,
                      existing.policy if existing else ShopPolicy())  # the file does not hold the policy
        report.record("shops", _outcome(existing, wanted))
        return self.shops.put_shop(wanted)

    def _key_conflicts(self, c: CatalogFile, shop_id: int) -> list[tuple[str, str]]:
        return [
            (f"shop.keys.{kind.value}", "this key belongs to another shop")
            for kind, key in self._wanted_keys(c)
            if (held := self.shops.keys.get(hash_key(key))) is not None and (held.shop_id, held.kind) != (shop_id, kind)
        ]

    def _stock_refusals(self, c: CatalogFile, shop_id: int, mode: StockMode) -> list[tuple[str, str]]:
        sku_ids = {s.code: s.id for s in self.goods.skus.values() if s.shop_id == shop_id}
        refused = []
        for line in stock_lines(c):
            sku_id = sku_ids.get(line.sku_code)
            held = None if sku_id is None else self.inventory.held(shop_id, sku_id, line.warehouse_code)
            if (why := stock_refusal(mode, line.figure, held)) is not None:
                refused.append((line.path, why))
        return refused

    def _keys(self, c: CatalogFile, shop_id: int, report: ImportReport) -> None:
        for kind, key in self._wanted_keys(c):
            held = self.shops.keys.get(hash_key(key))
            if held is None:
                self.shops.put_key(shop_id, kind, hash_key(key), hint_of(key))
            elif held.hint is None:
                self.shops.keys[hash_key(key)] = replace(held, hint=hint_of(key))
            report.record("keys", "unchanged" if held else "created")

    @staticmethod
    def _wanted_keys(c: CatalogFile) -> list[tuple[KeyKind, str]]:
        keys = c.shop.keys
        if keys is None:
            return []
        pairs = [(KeyKind.PUBLISHABLE, keys.publishable), (KeyKind.SECRET, keys.secret)]
        return [(kind, key) for kind, key in pairs if key is not None]

    def _categories(self, c: CatalogFile, shop_id: int, report: ImportReport) -> dict[str, int]:
        own = {cat.handle: cat for cat in self.goods.categories_.values() if cat.shop_id == shop_id}
        ids = {handle: cat.id for handle, cat in own.items()}
        for entry in c.categories:
            ids.setdefault(entry.handle, self.shops.next_id())
        for entry in c.categories:
            wanted = Category(ids[entry.handle], shop_id, entry.handle, entry.name,
                              ids[entry.parent] if entry.parent else None)
            report.record("categories", _outcome(own.get(entry.handle), wanted))
            self.goods.categories_[wanted.id] = wanted
        return ids

    def _products(
        self,
        c: CatalogFile,
        shop_id: int,
        categories: dict[str, int],
        now: datetime,
        report: ImportReport,
        progress: Callable[[], None] | None,
    ) -> None:
        products = {p.handle: p for p in self.goods.products.values() if p.shop_id == shop_id}
        skus = {s.code: s for s in self.goods.skus.values() if s.shop_id == shop_id}
        for entry in c.products:
            old = products.get(entry.handle)
            values = product_values(entry, categories[entry.category] if entry.category else None)
            product = product_from_row(SimpleNamespace(
                id=old.id if old else self.shops.next_id(), shop_id=shop_id, handle=entry.handle,
                created_at=old.created_at if old else now, archived_at=old.archived_at if old else None, **values,
            ))
            report.record("products", _outcome(old, product))
            self.goods.products[product.id] = product
            for position, sku_entry in enumerate(entry.skus):
                old_sku = skus.get(sku_entry.code)
                sku = sku_from_row(SimpleNamespace(
                    id=old_sku.id if old_sku else self.shops.next_id(), shop_id=shop_id, code=sku_entry.code,
                    **sku_values(sku_entry, product.id, position),
                ))
                report.record("skus", _outcome(old_sku, sku))
                self.goods.skus[sku.id] = sku
            if progress is not None:
                progress()

    def _stock(self, c: CatalogFile, shop_id: int, report: ImportReport) -> None:
        sku_ids = {s.code: s.id for s in self.goods.skus.values() if s.shop_id == shop_id}
        for line in stock_lines(c):
            sku_id = sku_ids[line.sku_code]
            held = self.inventory.held(shop_id, sku_id, line.warehouse_code)
            outcome = stock_outcome(report.stock.mode, line.figure, held)
            if outcome in ("created", "changed"):
                self.inventory.put_on_hand(shop_id, sku_id, line.warehouse_code, line.figure)
            elif outcome == "received" and held is not None:
                self.inventory.put_on_hand(shop_id, sku_id, line.warehouse_code, held[0] + line.figure)
            report.stock.record(outcome, line.figure)

    def _coupons_and_campaigns(
        self, c: CatalogFile, shop_id: int, categories: dict[str, int], now: datetime, report: ImportReport
    ) -> None:
        sku_ids = {s.code: s.id for s in self.goods.skus.values() if s.shop_id == shop_id}
        templates = {t.spec.code: t for t in self.coupons.templates.values() if t.shop_id == shop_id}
        for entry in c.coupons:
            old = templates.get(entry.code)
            spec = template_spec(entry, now, sku_ids, categories, old.spec if old else None)
            template, changed = self.coupons.put_template(shop_id, spec)
            templates[entry.code] = template
            report.record("coupon templates", "created" if old is None else "updated" if changed else "unchanged")
        template_ids = {code: t.id for code, t in templates.items()}
        campaigns = {cm.spec.code: cm for cm in self.members.campaigns.values() if cm.shop_id == shop_id}
        for entry in c.campaigns:
            old_campaign = campaigns.get(entry.code)
            spec = campaign_spec(entry, now, template_ids, old_campaign.spec if old_campaign else None)
            _, changed = self.members.put_campaign(shop_id, spec)
            report.record("campaigns", "created" if old_campaign is None else "updated" if changed else "unchanged")


def _outcome(old: Any, new: Any) -> Outcome:
    if old is None:
        return "created"
    return "unchanged" if old == new else "updated"
