"""payment ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import adapters.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('order_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('provider_ref', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('created_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('settled_at', adapters.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shop_id', 'idempotency_key')
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_order', ['shop_id', 'order_number', 'id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('balance_due_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paid', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refunded', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('compensation', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('committed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('balance_due_at', adapters.db.UtcDateTime(timezone=True), nullable=True))

def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('balance_due_at')
        batch_op.drop_column('committed')
        batch_op.drop_column('compensation')
        batch_op.drop_column('refunded')
        batch_op.drop_column('paid')
        batch_op.drop_column('balance_due_hours')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_order')

    op.drop_table('payment')
