"""SQL implementation of the goods catalog."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.goods import rules
from adapters.goods.port import (
    Category,
    Position,
    Product,
    ProductPage,
    ProductQuery,
    Sku,
    SortKey,
)
from adapters.goods.records import category_from_row, product_from_row, sku_from_row
from adapters.paging import Window


class CategoryRow(SQLModel, table=True):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("shop_id", "handle"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    handle: str = Field(max_length=100)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="category.id")


class ProductRow(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        UniqueConstraint("shop_id", "handle"),
        Index("ix_product_shop_price", "shop_id", "min_price", "id"),
        Index("ix_product_shop_created", "shop_id", "created_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    handle: str = Field(max_length=100)
    title: str = Field(max_length=200)
    title_folded: str = Field(max_length=200)
    search_text: str = Field(sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    brand: str = Field(default="", max_length=100)
    category_id: int | None = Field(default=None, foreign_key="category.id")
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    images: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    min_price: int = Field(default=0, sa_type=BigInteger)
    max_price: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Archived: gone from the storefront, kept for the orders that hold its SKUs.
    archived_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SkuRow(SQLModel, table=True):
    __tablename__ = "sku"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    product_id: int = Field(foreign_key="product.id", index=True)
    position: int = 0
    code: str = Field(max_length=64)
    title: str = Field(max_length=200)
    options: list[list[str]] = Field(default_factory=list, sa_type=JSON)
    price: int = Field(sa_type=BigInteger)
    compare_at_price: int | None = Field(default=None, sa_type=BigInteger)
    purchase_limit: int | None = None
    premium_delivery_eligible: bool = False
    deposit_amount: int | None = Field(default=None, sa_type=BigInteger)
    deposit_credited_value: int | None = Field(default=None, sa_type=BigInteger)
    deposit_balance_due_hours: int | None = None
    deposit_balance_methods: list[str] | None = Field(default=None, sa_type=JSON)


def _in_key_order(keys: Sequence[Any], found: dict[Any, Any]) -> list[Any]:
    return [found.get(key) for key in keys]


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlGoodsCatalog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def products_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Product | None]:
        stmt = select(ProductRow.__table__).where(ProductRow.shop_id == shop_id, ProductRow.id.in_(ids))
        rows = await self._all(stmt)
        return _in_key_order(ids, {r.id: product_from_row(r) for r in rows})

    async def products_by_handle(self, shop_id: int, handles: Sequence[str]) -> list[Product | None]:
        stmt = select(ProductRow.__table__).where(ProductRow.shop_id == shop_id, ProductRow.handle.in_(handles))
        rows = await self._all(stmt)
        return _in_key_order(handles, {r.handle: product_from_row(r) for r in rows})

    async def skus_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Sku | None]:
        stmt = select(SkuRow.__table__).where(SkuRow.shop_id == shop_id, SkuRow.id.in_(ids))
        rows = await self._all(stmt)
        return _in_key_order(ids, {r.id: sku_from_row(r) for r in rows})

    async def skus_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Sku | None]:
        stmt = select(SkuRow.__table__).where(SkuRow.shop_id == shop_id, SkuRow.code.in_(codes))
        rows = await self._all(stmt)
        return _in_key_order(codes, {r.code: sku_from_row(r) for r in rows})

    async def skus_by_product(self, shop_id: int, product_ids: Sequence[int]) -> list[list[Sku]]:
        stmt = (
            select(SkuRow.__table__)
            .where(SkuRow.shop_id == shop_id, SkuRow.product_id.in_(product_ids))
            .order_by(SkuRow.product_id, SkuRow.position, SkuRow.id)
        )
        grouped: dict[int, list[Sku]] = {pid: [] for pid in product_ids}
        for row in await self._all(stmt):
            grouped[row.product_id].append(sku_from_row(row))
        return [grouped[pid] for pid in product_ids]

    async def categories_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Category | None]:
        stmt = select(CategoryRow.__table__).where(CategoryRow.shop_id == shop_id, CategoryRow.id.in_(ids))
        rows = await self._all(stmt)
        return _in_key_order(ids, {r.id: category_from_row(r) for r in rows})

    async def categories(self, shop_id: int) -> list[Category]:
        stmt = select(CategoryRow.__table__).where(CategoryRow.shop_id == shop_id).order_by(CategoryRow.id)
        return [category_from_row(r) for r in await self._all(stmt)]

    async def search_products(self, shop_id: int, query: ProductQuery, window: Window[Position]) -> ProductPage:
        sort = self._sort_expression(query)
        descending = query.reverse
        conditions = await self._conditions(shop_id, query)
        if window.after is not None:
            conditions.append(_beyond(sort, window.after, descending))
        if window.before is not None:
            conditions.append(_beyond(sort, window.before, not descending))
        # ``last`` reads the ordering backwards from its end, then turns the page round
        backwards = descending != window.from_end
        order = (sort.desc(), ProductRow.id.desc()) if backwards else (sort.asc(), ProductRow.id.asc())
        stmt = (
            select(ProductRow.__table__, sort.label("sort_value"))
            .where(*conditions)
            .order_by(*order)
            .limit(window.size + 1)
        )
        rows, more = window.take(await self._db.rows(stmt))
        items = [(product_from_row(row), Position(value=row.sort_value, id=row.id)) for row in rows]
        return ProductPage(items, *window.flags(more))

    async def count_products(self, shop_id: int, query: ProductQuery) -> int:
        conditions = await self._conditions(shop_id, query)
        [(count,)] = await self._db.rows(select(func.count()).select_from(ProductRow.__table__).where(*conditions))
        return int(count)

    async def _all(self, stmt: Any) -> list[Any]:
        return await self._db.rows(stmt)

    async def _conditions(self, shop_id: int, query: ProductQuery) -> list[Any]:
        conditions: list[Any] = [ProductRow.shop_id == shop_id, ProductRow.archived_at.is_(None)]
        text = rules.normalized_text(query)
        if text is not None:
            conditions.append(ProductRow.search_text.like(_like_pattern(text), escape="\\"))
        if query.category_handle is not None:
            ids = rules.category_subtree(await self.categories(shop_id), query.category_handle)
            conditions.append(ProductRow.category_id.in_(ids))
        if query.min_price is not None or query.max_price is not None:
            priced = [SkuRow.product_id == ProductRow.id]
            if query.min_price is not None:
                priced.append(SkuRow.price >= query.min_price)
            if query.max_price is not None:
                priced.append(SkuRow.price <= query.max_price)
            conditions.append(exists().where(*priced))
        if query.sku_ids is not None:
            conditions.append(exists().where(SkuRow.product_id == ProductRow.id, self._one_of(SkuRow.id, query.sku_ids)))
        return conditions

    def _one_of(self, column: Any, ids: frozenset[int]) -> Any:
        """``column IN ids`` with the ids bound as one parameter: a big shop's set can pass
        the drivers' limit on parameters (32,767 for asyncpg)."""
        values = sorted(ids)
        if self._db.dialect == "postgresql":
            return column == any_(bindparam("ids", values, type_=postgresql.ARRAY(Integer), unique=True))
        each = func.json_each(bindparam("ids", json.dumps(values), unique=True)).table_valued("value")
        return column.in_(select(each.c.value))

    def _sort_expression(self, query: ProductQuery) -> Any:
        match query.sort:
            case SortKey.RELEVANCE:
                text = rules.normalized_text(query)
                if text is None:
                    return cast(literal(1), Integer)  # every product ranks the same: catalog order
                matches = ProductRow.title_folded.like(_like_pattern(text), escape="\\")
                return case((matches, 0), else_=1)
            case SortKey.PRICE:
                return ProductRow.min_price
            case SortKey.CREATED_AT:
                return ProductRow.created_at
            case SortKey.TITLE:
                # Code point order on both backends (SQLite compares UTF-8 bytes).
                if self._db.dialect == "postgresql":
                    return ProductRow.title.collate("C")
                return ProductRow.title


def _beyond(sort: Any, at: Position, descending: bool) -> Any:
    """Rows past ``at`` in the order (ascending, or descending if so), by sort value then id."""
    if descending:
        return or_(sort < at.value, and_(sort == at.value, ProductRow.id < at.id))
    return or_(sort > at.value, and_(sort == at.value, ProductRow.id > at.id))
