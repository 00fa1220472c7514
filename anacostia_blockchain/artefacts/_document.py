"""What every artefact document shares: a header, canonical bytes, and parsing with one-line errors.

A document is canonical JSON (sorted keys, no whitespace, UTF-8): the same artefact always gives the same bytes,
hence the same CID. Its header is ``{"artefact": KIND, "format": N, "name": NAME}``; :func:`parse` checks it and
hands the rest to the kind's ``from_json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..anchoring.manifest import canonical_json
from ..errors import ValidationError

#: The document format written by this version (part of every header).
DOCUMENT_FORMAT = 1
#: The kinds of artefact documents.
KINDS = ("dataset_batch", "model_checkpoint", "model_card")


def header(kind: str, name: str) -> dict[str, Any]:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"a {kind} needs a non-empty name")
    return {"artefact": kind, "format": DOCUMENT_FORMAT, "name": name}


def to_bytes(document: Mapping[str, Any]) -> bytes:
    return canonical_json(dict(document)).encode()


def parse(data: bytes | str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(kind, document)`` of artefact document bytes (:class:`ValidationError` for anything else)."""
    if isinstance(data, Mapping):
        document: Any = dict(data)
    else:
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ValidationError(f"not an artefact document: {type(exc).__name__}: {str(exc)[:120]}") from None
    if not isinstance(document, dict):
        raise ValidationError(f"not an artefact document: a JSON {type(document).__name__}, not an object")
    kind = document.get("artefact")
    if kind not in KINDS:
        raise ValidationError(f"not an artefact document: 'artefact' is {kind!r}, not one of {', '.join(KINDS)}")
    version = document.get("format")
    if version != DOCUMENT_FORMAT:
        raise ValidationError(f"{kind} document format {version!r} is not supported (this version reads "
                              f"{DOCUMENT_FORMAT})")
    return str(kind), document


def field_of(document: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """A required field of the expected JSON type (:class:`ValidationError` naming it otherwise)."""
    value = document.get(name)
    if not isinstance(value, kind):
        raise ValidationError(f"{document.get('artefact')} document: field {name!r} is missing or malformed")
    return value
