"""The shop's tables, as its code uses them today."""

import sqlalchemy as sa

metadata = sa.MetaData()

product = sa.Table(
    "product",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False, server_default="0"),
)

review = sa.Table(
    "review",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False),
    sa.Column("stars", sa.Integer, nullable=False),
)
