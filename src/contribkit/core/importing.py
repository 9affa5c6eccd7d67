"""Import a project object from a ``"package.module:attr.path"`` string, with one-line errors."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from contribkit.core.errors import UsageError


def load_object(spec: str, root: Path | None = None) -> object:
    """Import ``module:attr.path``; ``root`` (and ``root/src``) are importable as a fallback,
    so a project works whether or not it is installed."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise UsageError(f"{spec!r} is not an import path: use 'package.module:Base.metadata'.")
    if root is not None:
        for folder in (root / "src", root):
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.append(str(folder))
    try:
        obj: object = importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(
            f"cannot import models {spec!r}: {type(exc).__name__}: {exc}".rstrip(".") + "."
        ) from exc
    for name in attr_path.split("."):
        try:
            obj = getattr(obj, name)
        except AttributeError as exc:
            raise UsageError(f"cannot import models {spec!r}: no attribute {name!r}.") from exc
    return obj


def load_metadata(spec: str | tuple[str, ...], root: Path | None = None, key: str = "models"):
    """The project's ``MetaData`` named by ``key``: one, or several (each path naming a MetaData
    or a list of them, as an env.py's ``target_metadata`` may be) made into one."""
    specs = (spec,) if isinstance(spec, str) else spec
    found = []
    for one in specs:
        obj = load_object(one, root)
        parts = list(obj) if isinstance(obj, (list, tuple)) else [obj]
        for part in parts:
            if not _is_metadata(part):
                raise UsageError(
                    f"{key} {one!r} is a {type(part).__name__}, not a sqlalchemy MetaData."
                )
        found += parts
    return one_metadata(found, key)


def one_metadata(metadata: object, key: str = "models"):  # -> MetaData
    """``metadata`` itself, or the tables of a list of MetaData copied into one: Alembic's
    autogenerate takes a list, and contribkit's own comparison and seeding then see every
    table. A table name in two of them is refused: the databases would disagree on it."""
    if not isinstance(metadata, (list, tuple)):
        return metadata
    if len(metadata) == 1:
        return metadata[0]
    from sqlalchemy import MetaData

    merged = MetaData()
    for part in metadata:
        for table in part.tables.values():
            if table.key in merged.tables:
                raise UsageError(
                    f"{key}: table {table.key!r} is in more than one of its MetaData: "
                    "give each table one home."
                )
            table.to_metadata(merged)
    return merged


def _is_metadata(obj: object) -> bool:
    from sqlalchemy import MetaData

    return isinstance(obj, MetaData)


def load_row_factories(spec: str, root: Path | None = None):  # -> Mapping[str, Callable]
    """The project's ``seed_rows``: a mapping of table names to callables."""
    from collections.abc import Mapping

    obj = load_object(spec, root)
    if not isinstance(obj, Mapping) or not all(
        isinstance(name, str) and callable(factory) for name, factory in obj.items()
    ):
        raise UsageError(
            f"seed_rows {spec!r} is not a mapping of table names to row factories:"
            " write ROWS = {'table': lambda n: {'column': value}}."
        )
    return obj
