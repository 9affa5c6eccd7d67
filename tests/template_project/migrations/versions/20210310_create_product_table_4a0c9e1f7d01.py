"""Create product table

Revision ID: 4a0c9e1f7d01
Revises:
Create Date: 2021-03-10 09:12:44.102331

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a0c9e1f7d01'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Apply: Create product table."""
    op.create_table(
        "product",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("price_cents", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade():
    """Revert: Create product table."""
    op.drop_table("product")
