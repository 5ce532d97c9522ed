"""catalog lifecycle: products archived, coupon templates disabled, campaigns ended; order
lines keep the titles and code they were placed with

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import adapters.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_SNAPSHOT = ("title", "sku_title", "sku_code")


def upgrade() -> None:
    for table, column in (("product", "archived_at"), ("coupon_template", "disabled_at"),
                          ("assist_campaign", "ended_at")):
        op.add_column(table, sa.Column(column, adapters.db.UtcDateTime(timezone=True), nullable=True))
    # Orders placed before kept only prices: their titles are taken from the goods as they are now,
    # the nearest record there is (nothing could change a title over the API until this revision).
    sku = sa.table("sku", sa.column("id"), sa.column("title"), sa.column("code"), sa.column("product_id"))
    product = sa.table("product", sa.column("id"), sa.column("title"))
    names = sa.select(sku.c.id, sku.c.title, sku.c.code, product.c.title).join_from(
        sku, product, sku.c.product_id == product.c.id)
    _rewrite_lines(lambda line, known: {**line, **known[line["sku_id"]]},
                   {sku_id: {"title": product, "sku_title": sku, "sku_code": code}
                    for sku_id, sku, code, product in op.get_bind().execute(names).all()})


def downgrade() -> None:
    _rewrite_lines(lambda line, _: {k: v for k, v in line.items() if k not in _SNAPSHOT}, {})
    for table, column in (("assist_campaign", "ended_at"), ("coupon_template", "disabled_at"),
                          ("product", "archived_at")):
        op.drop_column(table, column)  # in place, SQLite too (3.35+): no copy of a table rows refer to


def _rewrite_lines(change, known) -> None:  # type: ignore[no-untyped-def]
    orders = sa.table("orders", sa.column("id", sa.Integer()), sa.column("lines", sa.JSON()))
    connection = op.get_bind()
    for order_id, lines in connection.execute(sa.select(orders.c.id, orders.c.lines)).all():
        connection.execute(orders.update().where(orders.c.id == order_id)
                           .values(lines=[change(line, known) for line in lines]))
