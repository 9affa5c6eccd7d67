"""The type a column stores on one dialect, named by a public SQLAlchemy class.

Each dialect has its own revision files, so they, and the checks that read the operations, deal
in what that dialect stores: a ``with_variant`` type is that dialect's variant, and a project's
own ``TypeDecorator`` is the type it loads for that dialect (its Python-side conversion belongs
to the models, and a revision that named it would have to import the project). SQLAlchemy's own
decorators (``Interval``, ``PickleType``) stay whole: Alembic writes them as they are.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
from typing import Any

import sqlalchemy as sa


def stored_type(type_: Any, dialect: Any) -> Any:
    """``type_`` as ``dialect`` (a SQLAlchemy Dialect) stores it; ``type_`` itself if it is
    already that."""
    variants = getattr(type_, "_variant_mapping", None)
    if variants:
        chosen = variants.get(dialect.name)
        if chosen is None:  # this dialect uses the base type: without the other dialects' variants
            chosen = copy.copy(type_)
            chosen._variant_mapping = type(variants)()
        return stored_type(chosen, dialect)
    if _project_decorator(type_):
        loaded = type_.load_dialect_impl(dialect)
        if loaded is not type_:
            # A decorator over another project decorator is resolved down the chain first:
            # only a type SQLAlchemy defines can be named by a public class.
            inner = loaded if _project_decorator(loaded) else _public(loaded, dialect.name)
            return stored_type(inner, dialect)
    return type_


def _project_decorator(type_: Any) -> bool:
    return isinstance(type_, sa.types.TypeDecorator) and not _from_sqlalchemy(type(type_))


def _from_sqlalchemy(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "sqlalchemy"


def _public(type_: Any, dialect_name: str) -> Any:
    """``type_`` as the nearest class a revision can name (``dialect.type_descriptor`` returns
    driver classes such as ``_PGTimeStamp``, which no public module exports)."""
    namespaces = [sa]
    with contextlib.suppress(ImportError):  # a third-party dialect: the generic types only
        namespaces.insert(0, importlib.import_module(f"sqlalchemy.dialects.{dialect_name}"))
    for cls in type(type_).__mro__:
        if any(getattr(namespace, cls.__name__, None) is cls for namespace in namespaces):
            return type_ if cls is type(type_) else type_.adapt(cls)
    return type_
