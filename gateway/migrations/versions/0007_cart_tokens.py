"""cart tokens: a cart's public id is random, not its row number

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    cart = sa.table('cart', sa.column('id', sa.Integer()), sa.column('token', sa.String()))
    connection = op.get_bind()
    for (cart_id,) in connection.execute(sa.select(cart.c.id)).all():  # carts made before: a token each
        connection.execute(cart.update().where(cart.c.id == cart_id).values(token=secrets.token_urlsafe(16)))
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)
        batch_op.create_unique_constraint('uq_cart_token', ['token'])


def downgrade() -> None:
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cart_token', type_='unique')
        batch_op.drop_column('token')
