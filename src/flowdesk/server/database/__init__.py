"""flowdesk database: ORM models, engine and migrations."""
