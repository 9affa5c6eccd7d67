"""contribkit: contributor workflows for database-backed Python servers."""

__version__ = "0.3.0"
