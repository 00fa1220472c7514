"""Typed relationships between artefacts, and how they are recorded in a run.

Types (:data:`RELATIONSHIP_TYPES`), each read "source TYPE target":

- ``trained_on``: a model checkpoint was trained on a dataset batch;
- ``evaluated_on``: a model checkpoint was evaluated on a dataset batch;
- ``derived_from``: a batch (or checkpoint) was made from another one (a batch's formula parents, a fine-tune);
- ``card_of``: a model card describes a checkpoint.

A relationship is recorded as a run tag ``relationship:<type>:<source id>-><target id>`` whose value holds both
content references, so it is queryable across runs (:mod:`.catalog`) and anchored with the run: every tag is a leaf
of the run manifest, provable on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from .refs import ContentRef

RELATIONSHIP_TYPES = ("trained_on", "evaluated_on", "derived_from", "card_of")
#: Prefix of the run tags that record relationships.
TAG_PREFIX = "relationship:"


@dataclass(frozen=True, slots=True)
class Relationship:
    """``source`` ``type`` ``target`` (see the module docstring)."""

    type: str
    source: ContentRef
    target: ContentRef

    def __post_init__(self) -> None:
        if self.type not in RELATIONSHIP_TYPES:
            raise ValidationError(f"relationship type {self.type!r} is not one of {', '.join(RELATIONSHIP_TYPES)}")

    @property
    def tag_key(self) -> str:
        return f"{TAG_PREFIX}{self.type}:{self.source.id}->{self.target.id}"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "source": self.source.to_json(), "target": self.target.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Relationship:
        if not isinstance(data, Mapping):
            raise ValidationError("a relationship is a JSON object")
        return cls(str(data.get("type")), ContentRef.from_json(data.get("source") or {}),
                   ContentRef.from_json(data.get("target") or {}))
