"""shop policy: trusted documents and a secret key's budget, per shop (null: the deployment's)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trusted_documents', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('budget_points', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('budget_restore', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_column('budget_restore')
        batch_op.drop_column('budget_points')
        batch_op.drop_column('trusted_documents')
