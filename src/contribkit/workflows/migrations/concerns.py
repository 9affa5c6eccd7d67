"""What the review of a new revision finds: one :class:`Concern` each, of one of these kinds."""

from __future__ import annotations

from dataclasses import dataclass

DESTRUCTIVE = "destructive"
DATA_DEPENDENT = "data-dependent"
RENAME = "suspected rename"
HAZARD = "dialect hazard"
SQUAWK = "squawk"


@dataclass(frozen=True)
class Concern:
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"
