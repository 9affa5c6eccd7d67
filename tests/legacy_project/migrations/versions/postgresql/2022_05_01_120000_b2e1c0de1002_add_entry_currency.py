"""add entry currency

Revision ID: b2e1c0de1002
Revises: a1f0c0de1001
"""
from alembic import op
import sqlalchemy as sa

revision = "b2e1c0de1002"
down_revision = "a1f0c0de1001"
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL without a default: fine on the empty databases of 2022, fails on any with rows.
    op.add_column("entry", sa.Column("currency", sa.String(3), nullable=False))


def downgrade():
    op.drop_column("entry", "currency")
