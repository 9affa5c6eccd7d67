"""add entry tags

Revision ID: c3d2c0de1003
Revises: b2e1c0de1002
"""
from alembic import op
import sqlalchemy as sa

revision = "c3d2c0de1003"
down_revision = "b2e1c0de1002"
branch_labels = None
depends_on = None


def upgrade():
    from sqlalchemy.dialects import postgresql

    op.add_column("entry", sa.Column("tags", postgresql.JSONB(), nullable=True))
    # Valid under asyncpg, which the ledger runs on; psycopg would reject the %I.
    op.get_bind().exec_driver_sql("SELECT format('%I.%I', 'public', 'entry')")


def downgrade():
    op.drop_column("entry", "tags")
