"""carts and orders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import adapters.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cart',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('shopper_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('coupon_ids', sa.JSON(), nullable=False),
    sa.Column('plan', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('balance_method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('order_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ),
    sa.ForeignKeyConstraint(['shopper_id'], ['shopper.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_shopper_id'), ['shopper_id'], unique=False)

    op.create_table('cart_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cart_id', 'sku_id')
    )
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('shopper_id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('cart_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('payment_status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('fulfillment', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('released', sa.Boolean(), nullable=False),
    sa.Column('plan', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('balance_method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('coupon_ids', sa.JSON(), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('delivery_fee', sa.BigInteger(), nullable=False),
    sa.Column('deposit_credit', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('due_now', sa.BigInteger(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('scene', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('created_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', adapters.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cart_id'], ['cart.id'], ),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ),
    sa.ForeignKeyConstraint(['shopper_id'], ['shopper.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('shop_id', 'shopper_id', 'idempotency_key')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_shop_state', ['shop_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_orders_shopper', ['shop_id', 'shopper_id', 'id'], unique=False)
        batch_op.create_index('ix_orders_sweep', ['state', 'payment_status', 'expires_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_sweep')
        batch_op.drop_index('ix_orders_shopper')
        batch_op.drop_index('ix_orders_shop_state')

    op.drop_table('orders')
    op.drop_table('cart_line')
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_shopper_id'))

    op.drop_table('cart')
