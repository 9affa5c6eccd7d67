"""How revision files are named: one ``file_template`` writes a name and recognises one.

Alembic's ``file_template`` (``%(rev)s``, ``%(slug)s``, ``%(year)d``, ``%(month).2d`` …,
``%(epoch)s``) names the files ``migrate`` writes and is the pattern ``check`` accepts for new
ones. A project with an alembic.ini keeps the names its own ``alembic revision`` writes: the
ini's ``file_template``, else Alembic's default ``<rev>_<slug>.py``. Without one, contribkit's
own, which sorts by time::

    2026_11_21_051500_1a2b3c4d5e6f_add_flow_run_new_column.py

A project whose names its own tooling writes after Alembic (Airflow's
``0047_3_0_0_add_dag_versioning.py``) states them in ``[tool.contribkit] file_template``, with
two tokens of contribkit's: ``%(number).4d``, one more than the highest number the folder's
names carry, and a module attribute every revision sets (``%(airflow_version)s``: its value,
each run of other characters than letters and digits written ``_``).
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from contribkit.core.errors import UsageError

#: contribkit's own names: the time first, so that a folder lists its history in order.
DEFAULT_TEMPLATE = (
    "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d%(second).2d_%(rev)s_%(slug)s"
)
#: What Alembic itself writes where an alembic.ini sets no ``file_template``.
ALEMBIC_TEMPLATE = "%(rev)s_%(slug)s"
_TOKEN = re.compile(r"%\((?P<name>\w+)\)(?P<format>[-#0 +]*\d*(?:\.\d+)?[sd])")
_DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")
_SHOWN = {
    "year": "YYYY",
    "month": "MM",
    "day": "DD",
    "hour": "HH",
    "minute": "MM",
    "second": "SS",
    "number": "NNNN",
}


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


#: What Alembic itself fills in; any other token is contribkit's to fill.
_ALEMBIC_TOKENS = frozenset({"rev", "slug", "epoch", *_DATE_PARTS})
NUMBER = "number"


def for_alembic(template: str, created: datetime, naming: Mapping[str, object]) -> str:
    """``template`` with its date parts filled in from ``created`` (so every dialect's file of
    one change carries the same time) and contribkit's tokens from ``naming`` (the number,
    the attributes), escaped for ``Config.set_main_option``."""
    values: dict[str, object] = {part: getattr(created, part) for part in _DATE_PARTS}
    values["epoch"] = int(created.timestamp())
    for name, value in naming.items():
        values[name] = value if name == NUMBER else re.sub(r"[^A-Za-z0-9]+", "_", str(value))

    def filled(token: re.Match[str]) -> str:
        if token["name"] in values:
            return ("%" + token["format"]) % values[token["name"]]
        if token["name"] in _ALEMBIC_TOKENS:
            return token.group(0)
        raise UsageError(
            f"file_template names %({token['name']}), which is neither one of Alembic's tokens, "
            "%(number), nor a module attribute every revision sets."
        )

    return _TOKEN.sub(filled, template).replace("%", "%%")


def tokens(template: str) -> set[str]:
    """The names of ``template``'s tokens."""
    return {token["name"] for token in _TOKEN.finditer(template)}


def next_number(template: str, names: list[str]) -> int:
    """One more than the highest ``%(number)`` the file ``names`` carry where ``template``
    could have written them (1 for a folder without one)."""
    pattern = _pattern(template, None, number=True)
    found = [int(m["number"]) for name in names if (m := re.fullmatch(pattern, name))]
    return max(found, default=0) + 1


def renamed(template: str, name: str, rev: str, created: datetime, number: int) -> str | None:
    """``name`` (written by ``template`` for ``rev``) with its time from ``created`` and its
    ``%(number)`` set to ``number``, the rest as it was; ``None`` where the template orders
    names by neither, or did not write ``name``."""
    found = list(_TOKEN.finditer(template))
    ordering = {*_DATE_PARTS, "epoch", NUMBER}
    if not any(token["name"] in ordering for token in found):
        return None
    parts, end = [], 0
    for index, token in enumerate(found):
        parts += [
            re.escape(template[end : token.start()]),
            f"(?P<t{index}>{_token_pattern(token, rev)})",
        ]
        end = token.end()
    parts.append(re.escape(template[end:]))
    match = re.fullmatch("".join(parts) + r"\.py", name)
    if match is None:
        return None
    values: dict[str, object] = {part: getattr(created, part) for part in _DATE_PARTS}
    values["epoch"] = int(created.timestamp())
    values[NUMBER] = number
    text, end = "", 0
    for index, token in enumerate(found):
        text += template[end : token.start()]
        text += (
            ("%" + token["format"]) % values[token["name"]]
            if token["name"] in ordering
            else match[f"t{index}"]
        )
        end = token.end()
    return text + template[end:] + ".py"


def written_by(template: str, name: str) -> bool:
    """Whether ``template`` could have written ``name`` for any revision."""
    return re.fullmatch(_pattern(template, None), name) is not None


def names(template: str, name: str, rev: str) -> bool:
    """Whether ``template`` could have written ``name`` for revision ``rev``."""
    return re.fullmatch(_pattern(template, rev), name) is not None


def _pattern(template: str, rev: str | None, *, number: bool = False) -> str:
    """The names ``template`` writes for revision ``rev`` (any revision: ``None``), as a
    regular expression; ``number``: the number captured as ``number``."""
    parts, end = [], 0
    for match in _TOKEN.finditer(template):
        token = _token_pattern(match, rev)
        if number and match["name"] == NUMBER:
            token = f"(?P<number>{token})"
        parts += [re.escape(template[end : match.start()]), token]
        end = match.end()
    parts.append(re.escape(template[end:]))
    return "".join(parts) + r"\.py"


def _token_pattern(token: re.Match[str], rev: str | None) -> str:
    """What one ``%(name)…`` of a template writes: the revision id itself, a slug or an
    attribute's value, or digits (as many as its precision says, e.g. ``%(month).2d``)."""
    if token["name"] == "rev":
        return re.escape(rev) if rev is not None else r"\w+?"
    if token["name"] not in (*_DATE_PARTS, "epoch", NUMBER):
        return r"\w*?"  # the slug, or an attribute's value
    width = re.search(r"\.(\d+)", token["format"])
    return rf"\d{{{width[1]}}}" if width else r"\d+"


def shown(template: str) -> str:
    """``template`` as a reader writes it: ``YYYY_MM_DD_HHMMSS_<rev>_<slug>.py``."""
    return (
        _TOKEN.sub(lambda m: _SHOWN.get(m["name"], f"<{m['name']}>"), template).replace("%%", "%")
        + ".py"
    )
