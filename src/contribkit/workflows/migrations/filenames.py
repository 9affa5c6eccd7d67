"""How revision files are named: one ``file_template`` writes a name and recognises one.

Alembic's ``file_template`` (``%(rev)s``, ``%(slug)s``, ``%(year)d``, ``%(month).2d`` …,
``%(epoch)s``) names the files ``migrate`` writes and is the pattern ``check`` accepts for new
ones. A project with an alembic.ini keeps the names its own ``alembic revision`` writes: the
ini's ``file_template``, else Alembic's default ``<rev>_<slug>.py``. Without one, contribkit's
own, which sorts by time::

    2026_11_21_051500_1a2b3c4d5e6f_add_flow_run_new_column.py
"""

from __future__ import annotations

import configparser
import re
from datetime import datetime
from pathlib import Path

#: contribkit's own names: the time first, so that a folder lists its history in order.
DEFAULT_TEMPLATE = (
    "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d%(second).2d_%(rev)s_%(slug)s"
)
#: What Alembic itself writes where an alembic.ini sets no ``file_template``.
ALEMBIC_TEMPLATE = "%(rev)s_%(slug)s"
_TOKEN = re.compile(r"%\((?P<name>\w+)\)(?P<format>[-#0 +]*\d*(?:\.\d+)?[sd])")
_DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")
_SHOWN = {"year": "YYYY", "month": "MM", "day": "DD", "hour": "HH", "minute": "MM", "second": "SS"}


def project_template(ini: Path | None) -> str:
    """The template the project's own ``alembic revision`` names files by: its alembic.ini's
    ``file_template``, Alembic's default where the ini has none, contribkit's without an ini."""
    if ini is None:
        return DEFAULT_TEMPLATE
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return DEFAULT_TEMPLATE
    if not parser.has_section("alembic"):
        return DEFAULT_TEMPLATE  # not an Alembic configuration
    template = parser.get("alembic", "file_template", fallback=None)
    # The ini escapes % as %%: what Alembic's ConfigParser reads back is the single form.
    return template.replace("%%", "%").strip() if template else ALEMBIC_TEMPLATE


def for_alembic(template: str, created: datetime) -> str:
    """``template`` with its date parts filled in from ``created`` (so every dialect's file of
    one change carries the same time), escaped for ``Config.set_main_option``."""
    values: dict[str, object] = {part: getattr(created, part) for part in _DATE_PARTS}
    values["epoch"] = int(created.timestamp())
    filled = _TOKEN.sub(
        lambda m: ("%" + m["format"]) % values[m["name"]] if m["name"] in values else m.group(0),
        template,
    )
    return filled.replace("%", "%%")


def names(template: str, name: str, rev: str) -> bool:
    """Whether ``template`` could have written ``name`` for revision ``rev``."""
    parts, end = [], 0
    for match in _TOKEN.finditer(template):
        parts += [re.escape(template[end : match.start()]), _token_pattern(match, rev)]
        end = match.end()
    parts.append(re.escape(template[end:]))
    return re.fullmatch("".join(parts) + r"\.py", name) is not None


def _token_pattern(token: re.Match[str], rev: str) -> str:
    """What one ``%(name)…`` of a template writes: the revision id itself, a slug, or digits
    (as many as its precision says, e.g. ``%(month).2d``)."""
    if token["name"] == "rev":
        return re.escape(rev)
    if token["name"] == "slug":
        return r"\w*"
    width = re.search(r"\.(\d+)", token["format"])
    return rf"\d{{{width[1]}}}" if width else r"\d+"


def shown(template: str) -> str:
    """``template`` as a reader writes it: ``YYYY_MM_DD_HHMMSS_<rev>_<slug>.py``."""
    return (
        _TOKEN.sub(lambda m: _SHOWN.get(m["name"], f"<{m['name']}>"), template).replace("%%", "%")
        + ".py"
    )
