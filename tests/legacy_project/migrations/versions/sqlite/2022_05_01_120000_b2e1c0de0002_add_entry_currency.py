"""add entry currency

Revision ID: b2e1c0de0002
Revises: a1f0c0de0001
"""
from alembic import op
import sqlalchemy as sa

revision = "b2e1c0de0002"
down_revision = "a1f0c0de0001"
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL without a default: fine on the empty databases of 2022, fails on any with rows.
    with op.batch_alter_table("entry") as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(3), nullable=False))


def downgrade():
    with op.batch_alter_table("entry") as batch_op:
        batch_op.drop_column("currency")
