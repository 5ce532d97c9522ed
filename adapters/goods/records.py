"""Stored values to domain types: one mapping for SQL rows and the fakes' records alike.

A "row" is anything with the stored columns as attributes: a Core row, an ORM
object, or a namespace built from the catalog import's values.
"""

from __future__ import annotations

from typing import Any

from adapters.goods.port import Category, DepositPolicy, Image, Product, Sku


def category_from_row(row: Any) -> Category:
    assert row.id is not None
    return Category(id=row.id, shop_id=row.shop_id, handle=row.handle, name=row.name, parent_id=row.parent_id)


def product_from_row(row: Any) -> Product:
    assert row.id is not None
    return Product(
        id=row.id,
        shop_id=row.shop_id,
        handle=row.handle,
        title=row.title,
        description=row.description,
        brand=row.brand,
        category_id=row.category_id,
        tags=tuple(row.tags),
        images=tuple(Image(url=i["url"], alt_text=i.get("altText")) for i in row.images),
        min_price=row.min_price,
        max_price=row.max_price,
        created_at=row.created_at,
        archived_at=row.archived_at,
    )


def sku_from_row(row: Any) -> Sku:
    assert row.id is not None
    policy = None
    if row.deposit_amount is not None:
        policy = DepositPolicy(
            deposit=row.deposit_amount,
            credited_value=row.deposit_credited_value or row.deposit_amount,
            balance_due_hours=row.deposit_balance_due_hours or 0,
            balance_methods=tuple(row.deposit_balance_methods or ()),
        )
    return Sku(
        id=row.id,
        shop_id=row.shop_id,
        product_id=row.product_id,
        code=row.code,
        title=row.title,
        options=tuple((name, value) for name, value in row.options),
        price=row.price,
        compare_at_price=row.compare_at_price,
        purchase_limit=row.purchase_limit,
        premium_delivery_eligible=row.premium_delivery_eligible,
        deposit_policy=policy,
    )
