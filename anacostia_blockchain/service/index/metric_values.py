"""Model metrics as the index keeps them: exact decimals, shown as written and ordered by an exact byte key.

NFT metadata written by ``actions/model_metadata.py`` states each metric as a decimal *string* under
``properties.metrics`` (``"0.9731"``: exactly what was anchored); other writers use JSON numbers under ``metrics`` or
OpenSea-style ``attributes``. :func:`document_metrics` reads them all into :class:`~decimal.Decimal`:

1. ``properties.metrics``, then top-level ``metrics``: a JSON number or a decimal string (``-?digits[.digits][e±n]``,
   nothing else: no ``NaN``, no spaces, no ``0x``);
2. ``attributes`` entries ``{"trait_type": name, "value": <JSON number>}`` (string trait values are traits, not
   metrics); the first source naming a metric wins.

A JSON number is taken as its shortest round-tripping decimal (``0.1`` is ``0.1``, not the binary double's
expansion). A metric is stored twice (``schema.nft_metrics``):

- ``exact``: the decimal's text (``str(Decimal)``: ``"0.9731"``, ``"1.50"``, ``"1E-7"``), which is also a valid JSON
  number literal — the API writes it into responses digit for digit (:func:`metrics_json`), so a client that parses
  JSON numbers as decimals reads back exactly what the metadata says;
- ``sort_key``: :func:`sort_key`, bytes whose byte-wise order is the numeric order of the decimals (``0.5`` and
  ``0.50`` get the same key). Filters and metric sorts compare keys, so they are exact at any precision, on SQLite
  (``BLOB``) and PostgreSQL (``bytea``) alike — no collation and no rounding to a double is involved. Equal values tie
  and are ordered by token id like every other sort.

Values with more than :data:`MAX_DIGITS` significant digits or an exponent beyond :data:`MAX_EXPONENT` are not indexed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic_core import to_json

MAX_DIGITS = 100
MAX_EXPONENT = 30_000
MAX_NAME = 128
_DECIMAL_TEXT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_ZERO, _NEGATIVE, _POSITIVE = b"\x80", b"\x40", b"\xc0"
_EXPONENT_BIAS = 1 << 15


def metric_decimal(value: Any) -> Decimal | None:
    """``value`` (a JSON number, a decimal string or a ``Decimal``) as a finite :class:`Decimal` within the indexed
    range, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**MAX_DIGITS else None
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str) and len(value) <= 2 * MAX_DIGITS and _DECIMAL_TEXT.fullmatch(value):
        text = value
    else:
        text = None
    if text is None:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or len(number.as_tuple().digits) > MAX_DIGITS:
        return None
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        return None
    return number


def _named(metrics: Mapping[Any, Any], found: dict[str, Decimal]) -> None:
    for name, value in metrics.items():
        number = metric_decimal(value)
        if number is not None:
            found.setdefault(str(name)[:MAX_NAME], number)


def document_metrics(document: Mapping[str, Any]) -> dict[str, Decimal]:
    """The metrics a metadata document declares (see the module docstring for where and in which forms)."""
    found: dict[str, Decimal] = {}
    properties = document.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("metrics"), dict):
        _named(properties["metrics"], found)
    if isinstance(document.get("metrics"), dict):
        _named(document["metrics"], found)
    attributes = document.get("attributes")
    if isinstance(attributes, list):
        for item in attributes:
            if isinstance(item, dict) and isinstance(item.get("trait_type"), str):
                value = item.get("value")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    _named({item["trait_type"]: value}, found)
    return found


def sort_key(number: Decimal) -> bytes:
    """Bytes ordered like the numbers: a sign byte, the decimal exponent (biased, big-endian) and the significant
    digits without trailing zeros; for negative numbers exponent and digits are complemented and closed by ``0xff``,
    so that a longer magnitude sorts first."""
    if not number:
        return _ZERO
    sign, digits, _exponent = number.as_tuple()  # exact (normalize() would round to the context's 28 digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits = digits[:-1]
    exponent = (number.adjusted() + 1 + _EXPONENT_BIAS).to_bytes(2, "big")
    body = exponent + bytes(0x30 + d for d in digits)
    if not sign:
        return _POSITIVE + body
    return _NEGATIVE + bytes(0xFF - b for b in body) + b"\xff"


def metrics_json(exact: Mapping[str, str] | None) -> str:
    """A JSON object of metric name -> the exact decimal text as a JSON number, sorted by name (``{}`` for none)."""
    if not exact:
        return "{}"
    return "{" + ",".join(f"{to_json(name).decode()}:{exact[name]}" for name in sorted(exact)) + "}"
