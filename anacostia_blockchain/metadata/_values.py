"""Validation and encoding of what users log: metric keys/values/steps, params and tags.

Metric values must be finite real numbers (NaN/inf are rejected: SQLite stores NaN as NULL, so they would not
round-trip). ``bool`` is rejected as a metric value and a step, because ``True`` silently becoming ``1.0`` hides bugs.
Params and tags are stored as JSON text so their types survive (``get_params`` returns what was logged); a value
that JSON cannot encode is rejected.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable
from typing import Any

from ..errors import MetadataValueError

MAX_KEY_LENGTH = 250


def check_key(key: object, what: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise MetadataValueError(f"{what} keys must be non-empty strings of at most {MAX_KEY_LENGTH} chars: {key!r}")
    return key


def metric_value(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise MetadataValueError(f"metric {key!r}: value must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise MetadataValueError(f"metric {key!r}: value must be finite, got {number}")
    return number


def metric_step(step: object) -> int | None:
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise MetadataValueError(f"metric step must be an int or None, got {step!r}")
    return int(step)


def plain_metric_triples(items: object) -> list[tuple[str, float, int | None]] | None:
    """``items`` itself when it is a non-empty list of plain ``(key, finite float, int | None)`` tuples with valid
    keys, else ``None``. Such a batch needs no per-row rebuilding: ``log_batch`` hands it to the driver as is.
    One pass of identity checks (``v - v == 0`` rejects NaN and inf), then each distinct key checked once.
    """
    if type(items) is not list or not items:
        return None
    plain = all(
        type(item) is tuple and len(item) == 3 and type(item[1]) is float and item[1] - item[1] == 0.0
        and (item[2] is None or type(item[2]) is int)
        for item in items
    )
    if not plain:
        return None
    for key in {item[0] for item in items}:
        check_key(key, "metric")
    return items


def metric_rows(
    items: Iterable[object], run_id: int, node_name: str | None, default_step: int | None, timestamp: float
) -> list[tuple[int, str | None, str, float, int | None, float]]:
    """Validate ``(key, value)`` / ``(key, value, step)`` items into full insert rows (the general path of
    ``log_batch``): identity checks for plain values, the full checks above for anything else, and each distinct
    key checked once."""
    rows: list[tuple[int, str | None, str, float, int | None, float]] = []
    append = rows.append
    known_keys: set[str] = set()
    for item in items:
        if (type(item) is tuple or type(item) is list) and len(item) in (2, 3):
            if len(item) == 3:
                key, value, step = item
            else:
                key, value = item
                step = default_step
        else:
            raise MetadataValueError(f"metric rows are (key, value) or (key, value, step), got {item!r}")
        if key not in known_keys:
            known_keys.add(check_key(key, "metric"))
        if type(value) is not float or value - value != 0.0:  # NaN/inf fail `v - v == 0`
            value = metric_value(key, value)
        if step is not None and type(step) is not int:
            step = metric_step(step)
        append((run_id, node_name, key, value, step, timestamp))
    return rows


def encode_value(key: str, value: Any, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MetadataValueError(f"{what} {key!r}: value is not JSON-encodable ({type(value).__name__})") from exc


def decode_value(text: str) -> Any:
    return json.loads(text)
