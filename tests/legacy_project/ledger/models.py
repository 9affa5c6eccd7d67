"""The ledger's models: ahead of its history in one way (account.email was never migrated)."""

import sqlalchemy as sa

from ledger.types import Tags

metadata = sa.MetaData()

account = sa.Table(
    "account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    # SQLite returns its server default as the text "0", which a DATETIME parser chokes on.
    sa.Column("opened", sa.DateTime, nullable=False, server_default="0"),
    sa.Column("email", sa.String(200), nullable=True),
)

entry = sa.Table(
    "entry",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("tags", Tags, nullable=True),
    sa.Index("ix_entry_account_id", "account_id"),
)
