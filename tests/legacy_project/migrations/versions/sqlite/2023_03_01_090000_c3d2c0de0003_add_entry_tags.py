"""add entry tags

Revision ID: c3d2c0de0003
Revises: b2e1c0de0002
"""
from alembic import op
import sqlalchemy as sa

revision = "c3d2c0de0003"
down_revision = "b2e1c0de0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("entry") as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("entry") as batch_op:
        batch_op.drop_column("tags")
