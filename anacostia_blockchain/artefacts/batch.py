"""Dataset formulas and dataset batches.

- A :class:`Formula` is the recipe of a dataset: which node made it (its code fingerprint and source revision),
  with which params (values and their digest), from which earlier batches (``parents``).
- A :class:`DatasetBatch` is one batch made with a formula: the exact content (by :class:`~.refs.ContentRef`: CID,
  sha256, size) a consumer used, in order, with the schema of its records. A model records the batch it was
  trained on; anyone holding the batch document can fetch every item from IPFS and check it
  (:meth:`DatasetBatch.fetch_items`).

Both are deterministic: the same items, formula and schema always give the same bytes and CID.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine.cache import params_digest
from ..errors import ValidationError
from . import _document
from .refs import ContentRef
from .relationships import Relationship
from .schema import DataSchema

if TYPE_CHECKING:
    from ..engine import BaseActionNode


@dataclass(frozen=True, slots=True)
class Formula:
    """How a dataset was made (see the module docstring)."""

    node: str
    code: str
    params_digest: str
    params: Mapping[str, Any] = field(default_factory=dict)
    parents: tuple[ContentRef, ...] = ()
    source: Mapping[str, Any] | None = None

    @classmethod
    def of_node(cls, node: BaseActionNode, parents: Iterable[ContentRef] = (),
                params: Mapping[str, Any] | None = None) -> Formula:
        """The formula of what ``node`` makes now: its code fingerprint and params (default: its cache params)."""
        values = dict(node.cache_params() if params is None else params)
        code = node.code
        source = code.source.to_json() if code.source is not None else None
        return cls(node.name, code.digest, params_digest(values), values, tuple(parents), source)

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "code": self.code, "params_digest": self.params_digest, "params": dict(self.params),
                "parents": [p.to_json() for p in self.parents], "source": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Formula:
        if not isinstance(data, Mapping):
            raise ValidationError("a dataset formula is a JSON object")
        parents = data.get("parents") or []
        source = data.get("source")
        return cls(str(data.get("node", "")), str(data.get("code", "")), str(data.get("params_digest", "")),
                   dict(data.get("params") or {}), tuple(ContentRef.from_json(p) for p in parents),
                   dict(source) if isinstance(source, Mapping) else None)


@dataclass(frozen=True, slots=True)
class DatasetBatch:
    """A batch of a dataset: its items, formula and schema (see the module docstring)."""

    name: str
    items: tuple[ContentRef, ...]
    formula: Formula | None = None
    schema: DataSchema | None = None

    kind = "dataset_batch"

    def __post_init__(self) -> None:
        _document.header(self.kind, self.name)
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"dataset batch {self.name!r} lists the same content twice")

    @property
    def cids(self) -> list[str]:
        """The items' CIDs, in order (items without one are left out)."""
        return [item.cid for item in self.items if item.cid is not None]

    def relationships(self, own: ContentRef) -> list[Relationship]:
        """``derived_from`` each parent batch of the formula."""
        parents = self.formula.parents if self.formula is not None else ()
        return [Relationship("derived_from", own, parent) for parent in parents]

    def schemas(self) -> list[DataSchema]:
        return [self.schema] if self.schema is not None else []

    def fetch_items(self, cat: Callable[[str], bytes]) -> list[bytes]:
        """Every item's content fetched by CID with ``cat`` and checked (sha256, size), in order."""
        return [item.fetch(cat) for item in self.items]

    def to_json(self) -> dict[str, Any]:
        return {**_document.header(self.kind, self.name), "items": [item.to_json() for item in self.items],
                "formula": self.formula.to_json() if self.formula is not None else None,
                "schema": self.schema.to_json() if self.schema is not None else None}

    def to_bytes(self) -> bytes:
        return _document.to_bytes(self.to_json())

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> DatasetBatch:
        items: Sequence[Any] = _document.field_of(document, "items", list)
        formula, schema = document.get("formula"), document.get("schema")
        return cls(str(document.get("name", "")), tuple(ContentRef.from_json(item) for item in items),
                   Formula.from_json(formula) if formula is not None else None,
                   DataSchema.from_json(schema) if schema is not None else None)

    @classmethod
    def from_bytes(cls, data: bytes) -> DatasetBatch:
        kind, document = _document.parse(data)
        if kind != cls.kind:
            raise ValidationError(f"expected a dataset_batch document, got a {kind}")
        return cls.from_json(document)
