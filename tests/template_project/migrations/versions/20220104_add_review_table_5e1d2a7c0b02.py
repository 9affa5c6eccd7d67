"""Add review table

Revision ID: 5e1d2a7c0b02
Revises: 4a0c9e1f7d01
Create Date: 2022-01-04 16:40:02.774810

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1d2a7c0b02'
down_revision = '4a0c9e1f7d01'
branch_labels = None
depends_on = None


def upgrade():
    """Apply: Add review table."""
    op.create_table(
        "review",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False),
        sa.Column("stars", sa.Integer, nullable=False),
    )


def downgrade():
    """Revert: Add review table."""
    op.drop_table("review")
