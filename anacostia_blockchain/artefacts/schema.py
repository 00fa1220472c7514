"""``DataSchema``: the data catalog's entry for a dataset or a model's inputs and outputs.

A schema names its columns (or record fields, or tensors) and their types, in order — MLflow calls the model form a
signature. Schemas are saved with the batches and checkpoints that use them and recorded in the run under
``schema:<name>`` (see :mod:`.catalog`), so ``Catalog(runs).schema("digits")`` finds one by name.

Types are strings from :data:`TYPES` (``str``, ``int``, ``float``, ``bool``, ``bytes``, ``datetime``, ``json``);
a tensor column adds ``shape`` (``-1`` for a free dimension).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError

#: Column types a schema may name.
TYPES = ("str", "int", "float", "bool", "bytes", "datetime", "json")
#: What a schema describes: table columns, record fields, or named tensors.
KINDS = ("table", "record", "tensor")


@dataclass(frozen=True, slots=True)
class Column:
    """One column (field, tensor) of a schema: its name, type, and for tensors its shape."""

    name: str
    type: str
    shape: tuple[int, ...] | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(f"a schema column needs a non-empty name, got {self.name!r}")
        if self.type not in TYPES:
            raise ValidationError(f"column {self.name!r}: type {self.type!r} is not one of {', '.join(TYPES)}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.shape is not None:
            data["shape"] = list(self.shape)
        if self.optional:
            data["optional"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Column:
        shape = data.get("shape")
        return cls(str(data.get("name", "")), str(data.get("type", "")),
                   None if shape is None else tuple(int(n) for n in shape), bool(data.get("optional", False)))


@dataclass(frozen=True, slots=True)
class DataSchema:
    """A named schema (see the module docstring)."""

    name: str
    columns: tuple[Column, ...]
    kind: str = "table"
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError("a schema needs a non-empty name")
        if self.kind not in KINDS:
            raise ValidationError(f"schema {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValidationError(f"schema {self.name!r} names a column twice")

    @classmethod
    def of(cls, name: str, columns: Iterable[tuple[str, str]] | Mapping[str, str], **options: Any) -> DataSchema:
        """``DataSchema.of("digits", {"p0": "int", "label": "int"})`` — columns from ``(name, type)`` pairs."""
        pairs = columns.items() if isinstance(columns, Mapping) else columns
        return cls(name, tuple(Column(column, kind) for column, kind in pairs), **options)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def check_record(self, record: Mapping[str, Any]) -> None:
        """Raise :class:`ValidationError` when a record lacks a required column (extra fields are allowed)."""
        missing = [c.name for c in self.columns if not c.optional and c.name not in record]
        if missing:
            raise ValidationError(f"record does not fit schema {self.name!r}: missing {', '.join(missing[:5])}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "columns": [c.to_json() for c in self.columns]}
        if self.description:
            data["description"] = self.description
        if self.extra:
            data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DataSchema:
        if not isinstance(data, Mapping):
            raise ValidationError(f"a schema is a JSON object, got {type(data).__name__}")
        columns: Sequence[Any] = data.get("columns") or ()
        if not isinstance(columns, list | tuple) or not all(isinstance(c, Mapping) for c in columns):
            raise ValidationError("a schema's columns are a list of objects")
        return cls(str(data.get("name", "")), tuple(Column.from_json(c) for c in columns),
                   str(data.get("kind", "table")), str(data.get("description", "")), dict(data.get("extra") or {}))
