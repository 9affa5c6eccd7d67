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


def load_metadata(spec: str, root: Path | None = None, key: str = "models"):  # -> MetaData
    """The project's ``MetaData`` named by ``key``; anything else is a configuration error."""
    from sqlalchemy import MetaData

    obj = load_object(spec, root)
    if not isinstance(obj, MetaData):
        raise UsageError(f"{key} {spec!r} is a {type(obj).__name__}, not a sqlalchemy MetaData.")
    return obj


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
