"""Which Python callable runs each flow: ``@flow("name")`` or ``register("name", fn)``.

A worker runs only flows registered in its process; the modules that register them are imported
with ``flowdesk worker start --import MODULE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

FlowFunction = Callable[..., Any]
F = TypeVar("F", bound=FlowFunction)


class FlowRegistry:
    """Flow names mapped to the callables that run them (with the run's parameters as kwargs)."""

    def __init__(self) -> None:
        self._functions: dict[str, FlowFunction] = {}

    def register(self, name: str, fn: FlowFunction) -> None:
        existing = self._functions.get(name)
        if existing is not None and existing is not fn:
            raise ValueError(f"flow {name!r} is already registered to {existing!r}")
        self._functions[name] = fn

    def flow(self, name: str) -> Callable[[F], F]:
        """Decorator: ``@registry.flow("etl")`` registers the function and returns it unchanged."""

        def decorate(fn: F) -> F:
            self.register(name, fn)
            return fn

        return decorate

    def get(self, name: str) -> FlowFunction | None:
        return self._functions.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._functions))


#: The registry ``flowdesk worker start`` uses.
default_registry = FlowRegistry()
flow = default_registry.flow
register = default_registry.register
