"""Model checkpoints and model cards.

A :class:`ModelCheckpoint` is a saved model: its weights by reference, the serializer that wrote them (and so reads
them back, :mod:`.serializers`), the framework and its version, the input and output schemas (the model's
signature), and what it was trained (and evaluated) on. Weights may be stored encrypted: then ``encryption`` names
the scheme and ``plaintext`` references the serialized model, so a key holder checks what they decrypted.

A :class:`ModelCard` documents a checkpoint (``card_of``).

:func:`load_document` reads any artefact document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ArtefactError, ValidationError
from . import _document
from .batch import DatasetBatch
from .refs import ContentRef
from .relationships import Relationship
from .schema import DataSchema
from .serializers import serializer


def _ref(value: Any) -> ContentRef | None:
    return None if value is None else ContentRef.from_json(value)


def _schema(value: Any) -> DataSchema | None:
    return None if value is None else DataSchema.from_json(value)


@dataclass(frozen=True, slots=True)
class ModelCheckpoint:
    """A saved model (see the module docstring)."""

    name: str
    serializer: str
    framework: str
    framework_version: str
    weights: ContentRef
    input_schema: DataSchema | None = None
    output_schema: DataSchema | None = None
    trained_on: ContentRef | None = None
    evaluated_on: tuple[ContentRef, ...] = ()
    derived_from: tuple[ContentRef, ...] = ()
    plaintext: ContentRef | None = None
    encryption: str | None = None

    kind = "model_checkpoint"

    def __post_init__(self) -> None:
        _document.header(self.kind, self.name)
        if self.encryption is not None and self.plaintext is None:
            raise ValidationError(f"checkpoint {self.name!r}: encrypted weights need a plaintext reference")

    @classmethod
    def describe(
        cls, name: str, model: Any, serializer_name: str, weights: ContentRef, **fields: Any
    ) -> ModelCheckpoint:
        """A checkpoint of ``model`` written by ``serializer_name`` to ``weights`` (framework and version taken
        from the model object)."""
        framework, version = serializer(serializer_name).framework(model)
        return cls(name, serializer_name, framework, version, weights, **fields)

    def relationships(self, own: ContentRef) -> list[Relationship]:
        found = [Relationship("trained_on", own, self.trained_on)] if self.trained_on is not None else []
        found += [Relationship("evaluated_on", own, batch) for batch in self.evaluated_on]
        found += [Relationship("derived_from", own, parent) for parent in self.derived_from]
        return found

    def schemas(self) -> list[DataSchema]:
        return [s for s in (self.input_schema, self.output_schema) if s is not None]

    def model_bytes(self, cat: Callable[[str], bytes], *, decrypt: Callable[[bytes], bytes] | None = None) -> bytes:
        """The serialized model: the weights fetched by CID and checked, decrypted when they are encrypted (then
        checked against ``plaintext``)."""
        data = self.weights.fetch(cat)
        if self.encryption is None:
            return data
        if decrypt is None:
            raise ArtefactError(f"checkpoint {self.name!r} is encrypted ({self.encryption}); pass decrypt=...")
        plain = decrypt(data)
        if self.plaintext is not None:
            self.plaintext.check(plain)
        return plain

    def load(self, cat: Callable[[str], bytes], *, decrypt: Callable[[bytes], bytes] | None = None,
             allow_pickle: bool = False, trusted: Sequence[str] = ()) -> Any:
        """The model object, loaded with the recorded serializer (a pickle-based one only with ``allow_pickle``,
        checked before anything is fetched)."""
        reader = serializer(self.serializer)
        if reader.pickle_based and not allow_pickle:
            reader.loads(b"", allow_pickle=False)  # raises UnsafeSerializerError
        data = self.model_bytes(cat, decrypt=decrypt)
        return reader.loads(data, allow_pickle=allow_pickle, trusted=trusted, framework=self.framework)

    def to_json(self) -> dict[str, Any]:
        def ref(value: ContentRef | None) -> dict[str, Any] | None:
            return value.to_json() if value is not None else None

        return {
            **_document.header(self.kind, self.name), "serializer": self.serializer, "framework": self.framework,
            "framework_version": self.framework_version, "weights": self.weights.to_json(),
            "plaintext": ref(self.plaintext), "encryption": self.encryption,
            "input_schema": self.input_schema.to_json() if self.input_schema is not None else None,
            "output_schema": self.output_schema.to_json() if self.output_schema is not None else None,
            "trained_on": ref(self.trained_on), "evaluated_on": [b.to_json() for b in self.evaluated_on],
            "derived_from": [p.to_json() for p in self.derived_from],
        }

    def to_bytes(self) -> bytes:
        return _document.to_bytes(self.to_json())

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ModelCheckpoint:
        weights = ContentRef.from_json(_document.field_of(document, "weights", dict))
        return cls(
            str(document.get("name", "")), str(_document.field_of(document, "serializer", str)),
            str(document.get("framework", "")), str(document.get("framework_version", "")), weights,
            _schema(document.get("input_schema")), _schema(document.get("output_schema")),
            _ref(document.get("trained_on")),
            tuple(ContentRef.from_json(b) for b in document.get("evaluated_on") or []),
            tuple(ContentRef.from_json(p) for p in document.get("derived_from") or []),
            _ref(document.get("plaintext")),
            None if document.get("encryption") is None else str(document["encryption"]),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelCheckpoint:
        document = load_document(data)
        if not isinstance(document, ModelCheckpoint):
            raise ValidationError(f"expected a model_checkpoint document, got a {document.kind}")
        return document


@dataclass(frozen=True, slots=True)
class ModelCard:
    """Documentation of a checkpoint (``card_of``): free text (Markdown) and optional structured fields."""

    name: str
    card_of: ContentRef
    text: str = ""
    fields: Mapping[str, Any] | None = None

    kind = "model_card"

    def __post_init__(self) -> None:
        _document.header(self.kind, self.name)

    def relationships(self, own: ContentRef) -> list[Relationship]:
        return [Relationship("card_of", own, self.card_of)]

    def schemas(self) -> list[DataSchema]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {**_document.header(self.kind, self.name), "card_of": self.card_of.to_json(), "text": self.text,
                "fields": dict(self.fields or {})}

    def to_bytes(self) -> bytes:
        return _document.to_bytes(self.to_json())

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ModelCard:
        return cls(str(document.get("name", "")), ContentRef.from_json(_document.field_of(document, "card_of", dict)),
                   str(document.get("text", "")), dict(document.get("fields") or {}))


ArtefactDocument = DatasetBatch | ModelCheckpoint | ModelCard
_READERS: dict[str, Any] = {"dataset_batch": DatasetBatch, "model_checkpoint": ModelCheckpoint,
                            "model_card": ModelCard}


def load_document(data: bytes | str | Mapping[str, Any]) -> ArtefactDocument:
    """Any artefact document from its bytes (:class:`ValidationError` when it is not one)."""
    kind, document = _document.parse(data)
    try:
        result: ArtefactDocument = _READERS[kind].from_json(document)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValidationError(f"{kind} document is malformed: {type(exc).__name__}: {exc}") from None
    return result
