"""Values a validating column type accepts, made from what its validator says is wrong.

A project's JSON column often passes its value through a model (pydantic and the libraries built
on it): a made-up ``{"seed": 1}`` is refused, but the refusal lists each field that is missing or
of the wrong kind, in pydantic's documented error format (``exc.errors()``: dicts with ``type``
and ``loc``). Filling those in, a few rounds at most, gives a value the project's own type accepts,
with no knowledge of the project. For a union the first ``loc`` entry names the branch: each
branch is tried on its own.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

#: Rounds of fixing before giving up: each round fills one level of nesting or fixes kinds.
ROUNDS = 8

#: pydantic error type → a value of the kind it asked for.
_KINDS: dict[str, Callable[[int], Any]] = {
    "string_type": lambda n: f"seed-{n}",
    "int_type": lambda n: n,
    "int_parsing": lambda n: n,
    "float_type": lambda n: n + 0.5,
    "float_parsing": lambda n: n + 0.5,
    "bool_type": lambda n: True,
    "bool_parsing": lambda n: True,
    "uuid_type": lambda n: str(uuid.uuid4()),
    "uuid_parsing": lambda n: str(uuid.uuid4()),
    "datetime_type": lambda n: dt.datetime(2024, 1, 1, 12, 0, n, tzinfo=dt.UTC).isoformat(),
    "datetime_parsing": lambda n: dt.datetime(2024, 1, 1, 12, 0, n, tzinfo=dt.UTC).isoformat(),
    "date_type": lambda n: dt.date(2024, 1, n).isoformat(),
    "date_parsing": lambda n: dt.date(2024, 1, n).isoformat(),
    "time_delta_type": lambda n: 60 * n,
    "time_delta_parsing": lambda n: 60 * n,
    "dict_type": lambda n: {},
    "model_type": lambda n: {},
    "model_attributes_type": lambda n: {},
    "list_type": lambda n: [],
    "tuple_type": lambda n: [],
    "set_type": lambda n: [],
    "url_type": lambda n: f"https://example.com/{n}",
    "url_parsing": lambda n: f"https://example.com/{n}",
    "none_required": lambda n: None,
    # A field only named so far: the next round says what kind it wants.
    "missing": lambda n: n,
}

_NOTHING = object()


def accepted_value(check: Callable[[Any], object], start: Any, n: int) -> Any:
    """A value ``check`` (the type's conversion) accepts, grown from ``start``; ``None`` if
    its refusals cannot be read or fixed."""
    found = _grown(check, start, n, prefix=None, rounds=ROUNDS)
    return None if found is _NOTHING else found


def _grown(check: Callable[[Any], object], value: Any, n: int, prefix: Any, rounds: int) -> Any:
    try:
        check(value)
        return value
    except Exception as exc:  # the refusal is what we read
        errors = _errors(exc)
    if not errors or rounds == 0:
        return _NOTHING
    # Unless a branch is chosen already, try the errors as they are, then each union branch.
    prefixes = (
        [prefix] if prefix is not None else [(), *dict.fromkeys(e["loc"][:1] for e in errors)]
    )
    for chosen in prefixes:
        mine = [e for e in errors if tuple(e["loc"][: len(chosen)]) == chosen]
        fixed = _fixed(value, mine, len(chosen), n)
        if fixed is not _NOTHING and fixed != value:
            found = _grown(check, fixed, n, chosen if chosen else None, rounds - 1)
            if found is not _NOTHING:
                return found
    return _NOTHING


def _errors(exc: Exception) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return []
    try:
        listed = errors()
    except Exception:  # errors() of some other library, with another signature
        return []
    if not isinstance(listed, list):
        return []
    return [e for e in listed if isinstance(e, dict) and "type" in e and "loc" in e]


def _fixed(value: Any, errors: list[dict[str, Any]], skip: int, n: int) -> Any:
    """``value`` with each error's place set to a value of the kind asked for."""
    fixed = copy.deepcopy(value)
    for error in errors:
        path = list(error["loc"][skip:])
        if error["type"] == "extra_forbidden" and path:
            fixed = _set(fixed, path, _NOTHING)
        elif error["type"] in ("literal_error", "enum"):
            fixed = _set(fixed, path, _first_expected(error.get("ctx") or {}))
        elif error["type"] in _KINDS:
            fixed = _set(fixed, path, _KINDS[error["type"]](n))
        else:
            return _NOTHING  # a rule of the project's (a value_error): not ours to guess
    return fixed


def _first_expected(ctx: dict[str, Any]) -> Any:
    """The first value of ``expected`` ("'a' or 'b'", or enum members "Kind.A or Kind.B")."""
    first = str(ctx.get("expected", "")).replace(" or ", ", ").split(", ")[0]
    if first[:1] in "'\"":
        return first.strip("'\"")
    return first.rpartition(".")[2]


def _set(container: Any, path: list[Any], new: Any) -> Any:
    """``container`` with ``new`` at ``path`` (``_NOTHING``: removed); dicts are made on the way."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(container, list) and isinstance(head, int) and head < len(container):
        container[head] = _set(container[head], rest, new)
        return container
    if not isinstance(container, dict):
        container = {}
    if new is _NOTHING and not rest:
        container.pop(head, None)
    else:
        container[head] = _set(container.get(head), rest, new)
    return container
