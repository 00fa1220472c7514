"""Record schemas and the readers that validate JSONL / CSV text data files against them, one record at a time.

Used by :class:`~anacostia_blockchain.actions.data_prep.DataPrepNode`. A schema is a list of typed fields::

    schema = RecordSchema.of(text="str", source="str?", score="float?")   # "?" = optional
    schema = RecordSchema((FieldSpec("text", min_length=1, max_length=20_000), FieldSpec("lang", required=False)))

Design choices a user needs to know:

* Validation is strict and typed: in JSONL a value must already have the schema's type (``1`` is not a ``str``,
  ``true`` is not an ``int``); CSV cells are text, so they are *converted* (``int``, finite ``float``, and
  ``true/false/1/0/yes/no`` for ``bool``) and an unconvertible cell is an error. Non-finite floats are rejected.
* Unknown fields are an error unless ``allow_extra_fields=True`` (then they pass through untouched).
* Every problem raises :class:`~anacostia_blockchain.errors.ValidationError` whose message says where
  (``line 17``, ``row 4``) and what (``field 'text' is missing``), so the quarantine record is actionable.
* Files are read as a stream (line by line), never whole; the format comes from the file suffix.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ConfigurationError, ValidationError

FIELD_TYPES = ("str", "int", "float", "bool")
#: File suffix -> format name. ``.tsv`` is CSV with a tab delimiter.
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class FieldSpec:
    """One field: its name, type, whether it must be present, and length bounds for strings (checked after
    cleaning). ``clean=False`` exempts a string field from text normalisation (ids, hashes, URLs)."""

    name: str
    type: str = "str"
    required: bool = True
    min_length: int | None = None
    max_length: int | None = None
    clean: bool = True

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigurationError("a schema field needs a name")
        if self.type not in FIELD_TYPES:
            raise ConfigurationError(f"field {self.name!r}: type must be one of {', '.join(FIELD_TYPES)}")
        if (self.min_length is not None or self.max_length is not None) and self.type != "str":
            raise ConfigurationError(f"field {self.name!r}: length bounds apply to str fields only")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ConfigurationError(f"field {self.name!r}: min_length > max_length")


@dataclass(frozen=True)
class RecordSchema:
    """An ordered set of fields; output records keep this order (then any allowed extra fields)."""

    fields: tuple[FieldSpec, ...]
    allow_extra_fields: bool = False

    def __post_init__(self) -> None:
        if not self.fields:
            raise ConfigurationError("a record schema needs at least one field")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ConfigurationError("a record schema has duplicate field names")

    @classmethod
    def of(cls, *, allow_extra_fields: bool = False, **types: str) -> RecordSchema:
        """Shorthand: ``RecordSchema.of(text="str", label="int?")``; a trailing ``?`` makes the field optional."""
        fields = tuple(
            FieldSpec(name, spec.rstrip("?"), required=not spec.endswith("?")) for name, spec in types.items()
        )
        return cls(fields, allow_extra_fields)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def check(self, record: Mapping[str, Any], *, from_text: bool) -> dict[str, Any]:
        """Return the record with typed values in schema order; ``from_text``: values are CSV cells to convert."""
        out: dict[str, Any] = {}
        for spec in self.fields:
            value = record.get(spec.name)
            if from_text and value == "" and spec.type != "str":
                value = None
            if value is None:
                if spec.required:
                    raise ValidationError(f"field {spec.name!r} is missing")
                continue
            out[spec.name] = _convert(spec, value) if from_text else _require_type(spec, value)
        extra = [key for key in record if key not in out and key not in self.field_names]
        if extra and not self.allow_extra_fields:
            raise ValidationError(f"unexpected field(s) {', '.join(repr(k) for k in extra[:5])}")
        for key in extra:
            out[key] = record[key]
        return out

    def check_lengths(self, record: Mapping[str, Any]) -> None:
        """Apply ``min_length`` / ``max_length`` (after cleaning, so whitespace padding cannot satisfy them)."""
        for spec in self.fields:
            value = record.get(spec.name)
            if not isinstance(value, str):
                continue
            if spec.min_length is not None and len(value) < spec.min_length:
                raise ValidationError(f"field {spec.name!r} is shorter than {spec.min_length} characters")
            if spec.max_length is not None and len(value) > spec.max_length:
                raise ValidationError(f"field {spec.name!r} is longer than {spec.max_length} characters")


def detect_format(path: Path, default: str | None = None) -> str:
    """``jsonl``, ``csv`` or ``tsv`` from the suffix, else ``default`` (for names without one, such as CIDs);
    with neither, a :class:`ValidationError`."""
    if default is not None and default not in FORMATS.values():
        raise ConfigurationError(
            f"unknown data format {default!r}; use one of {', '.join(sorted(set(FORMATS.values())))}"
        )
    fmt = FORMATS.get(path.suffix.lower(), default)
    if fmt is None:
        expected = ", ".join(sorted(FORMATS))
        raise ValidationError(f"unsupported file type {path.suffix or '(no suffix)'!r}; expected one of {expected}")
    return fmt


def iter_records(handle: BinaryIO, fmt: str, schema: RecordSchema) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_or_row_number, typed_record)``; the first bad record raises :class:`ValidationError`."""
    text = io.TextIOWrapper(handle, encoding="utf-8", errors="strict", newline="")
    try:
        if fmt == "jsonl":
            yield from _iter_jsonl(text, schema)
        elif fmt in ("csv", "tsv"):
            yield from _iter_csv(text, schema, "\t" if fmt == "tsv" else ",")
        else:
            raise ConfigurationError(f"unknown data format {fmt!r}")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"the file is not valid UTF-8 ({exc.reason})") from exc
    finally:
        text.detach()


def _iter_jsonl(text: io.TextIOWrapper, schema: RecordSchema) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_reject_constant)
        except (json.JSONDecodeError, ValueError) as exc:
            raise ValidationError(f"line {number}: not valid JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise ValidationError(f"line {number}: a record must be a JSON object, got {type(value).__name__}")
        try:
            yield number, schema.check(value, from_text=False)
        except ValidationError as exc:
            raise ValidationError(f"line {number}: {exc}") from exc


def _iter_csv(text: io.TextIOWrapper, schema: RecordSchema, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError("empty file: a header row is required")
        header = [name.strip() for name in header]
        missing = [f.name for f in schema.fields if f.required and f.name not in header]
        if missing:
            raise ValidationError(f"header lacks required column(s) {', '.join(repr(m) for m in missing)}")
        if len(set(header)) != len(header):
            raise ValidationError("header has duplicate column names")
        for row in reader:
            number = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValidationError(f"row {number}: {len(row)} values for {len(header)} columns")
            try:
                yield number, schema.check(dict(zip(header, row, strict=True)), from_text=True)
            except ValidationError as exc:
                raise ValidationError(f"row {number}: {exc}") from exc
    except csv.Error as exc:
        raise ValidationError(f"row {reader.line_num}: malformed CSV ({exc})") from exc


def _require_type(spec: FieldSpec, value: Any) -> Any:
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
    }[spec.type]
    if not ok:
        raise ValidationError(f"field {spec.name!r} must be {spec.type}, got {type(value).__name__}")
    if spec.type == "float":
        return _finite(spec, float(value))
    return value


def _convert(spec: FieldSpec, cell: str) -> Any:
    if spec.type == "str":
        return cell
    raw = cell.strip()
    if spec.type == "bool":
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValidationError(f"field {spec.name!r}: {raw[:40]!r} is not a boolean")
    try:
        return int(raw) if spec.type == "int" else _finite(spec, float(raw))
    except ValueError as exc:
        raise ValidationError(f"field {spec.name!r}: {raw[:40]!r} is not a valid {spec.type}") from exc


def _finite(spec: FieldSpec, value: float) -> float:
    if not math.isfinite(value):
        raise ValidationError(f"field {spec.name!r} must be a finite number")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in records")
