"""A tiny inventory schema in SQLAlchemy Core style."""
