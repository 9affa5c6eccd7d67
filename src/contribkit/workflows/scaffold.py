"""``contribkit init``: give a project a migrations folder and a notes file.

It writes only files that do not exist yet and refuses, before writing anything, when one does.
"""

from __future__ import annotations

from pathlib import Path

from contribkit.core.config import ProjectConfig
from contribkit.core.errors import UsageError
from contribkit.workflows.migrations.notes import PREAMBLE, write_atomically

ENV_PY = '''"""Alembic environment: contribkit configures the context for every dialect."""

from contribkit.env import run_env

run_env()
'''

# A plain Alembic template: revision files must run wherever alembic runs, without contribkit.
SCRIPT_TEMPLATE = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''


def planned_files(config: ProjectConfig) -> dict[Path, str]:
    from contribkit.workflows.migrations.layout import Migrations, project_layout

    folder = config.require_migrations()
    files = {folder / "env.py": ENV_PY, folder / "script.py.mako": SCRIPT_TEMPLATE}
    migrations = Migrations(folder, layout=project_layout(folder, config.layout))
    for dialect in config.dialects:
        files[migrations.versions(dialect) / ".gitkeep"] = ""
    if config.notes is not None:
        files[config.notes] = PREAMBLE
    return files


def init_project(config: ProjectConfig) -> list[Path]:
    """Create the migrations layout; returns the files written."""
    files = planned_files(config)
    existing = [path for path in files if path.exists()]
    if existing:
        shown = ", ".join(str(p.relative_to(config.root)) for p in existing)
        raise UsageError(
            f"refusing to overwrite {shown}: remove it first or keep the current set-up."
        )
    written: list[Path] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written
