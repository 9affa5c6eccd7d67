"""The rules for a migration message, which becomes the file slug and the notes title."""

from __future__ import annotations

import re

from contribkit.core.errors import UsageError
from contribkit.workflows.migrations.layout import SLUG_LENGTH

_RULE = (
    "use a brief snake_case description of letters, digits and underscores, "
    f"at most {SLUG_LENGTH} characters, e.g. add_flow_run_new_column"
)
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def message_to_slug(message: str) -> str:
    """Fold spaces and hyphens to underscores and lower-case; refuse anything else unusual.

    A message reaches file names and Markdown, so path separators, dots and shell
    metacharacters are refused outright rather than silently stripped.
    """
    folded = re.sub(r"[\s-]+", "_", message.strip()).lower()
    if not folded:
        raise UsageError(f"the migration message is empty: {_RULE}.")
    bad = sorted(set(re.sub(r"[a-z0-9_]", "", folded)))
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise UsageError(f"the migration message contains {shown}: {_RULE}.")
    if len(folded) > SLUG_LENGTH:
        raise UsageError(f"the migration message is {len(folded)} characters long: {_RULE}.")
    if not _SLUG.match(folded):
        raise UsageError(f"the migration message must start with a letter: {_RULE}.")
    return folded


def slug_to_title(slug: str) -> str:
    """``add_flow_run_new_column`` → ``Add flow run new column`` (the notes heading)."""
    words = slug.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
