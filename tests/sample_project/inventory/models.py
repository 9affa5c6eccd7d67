"""Warehouses and their items: integer keys, a cascade, and a native PostgreSQL enum."""

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

warehouse = sa.Table(
    "warehouse",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
    sa.Column("city", sa.String(80), nullable=True),
)

item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "warehouse_id",
        sa.ForeignKey("warehouse.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("sku", sa.String(40), nullable=False),
    sa.Column("kind", sa.Enum("part", "tool", "kit", name="item_kind"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False, server_default="0"),
)
