"""initial

Revision ID: a1f0c0de0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa

revision = "a1f0c0de0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("opened", sa.DateTime, nullable=False, server_default="0"),
    )
    op.create_table(
        "entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("amount", sa.Integer, nullable=False),
    )
    op.create_index("ix_entry_account_id", "entry", ["account_id"])
    # Added by hand on production long ago; the models never knew it.
    op.create_index("dba_entry_amount", "entry", ["amount"])


def downgrade():
    op.drop_table("entry")
    op.drop_table("account")
