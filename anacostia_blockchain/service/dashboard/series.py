"""Metric rows of a run as what the dashboard draws: per-metric summaries and step series small enough for a browser.

A run may log hundreds of thousands of points; a chart a few hundred pixels wide shows at most a couple of values per
pixel column. :func:`downsample` keeps, for each of ``max_points / 2`` equal-width buckets of the x range, the lowest
and the highest point (in x order): spikes and drops survive, the line looks the same, and what goes over the wire is
bounded whatever the run logged. The first and last points are always kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Default number of points per series sent to a chart.
CHART_POINTS = 1000


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def summarize(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{key: {"last", "min", "max", "count", "last_step"}}`` over metric rows in logging order."""
    summary: dict[str, dict[str, Any]] = {}
    for row in rows:
        value = _finite(row.get("value"))
        if value is None:
            continue
        key = str(row.get("key"))
        entry = summary.get(key)
        if entry is None:
            summary[key] = {"last": value, "min": value, "max": value, "count": 1, "last_step": row.get("step")}
            continue
        entry["last"], entry["last_step"] = value, row.get("step")
        entry["count"] += 1
        entry["min"] = min(entry["min"], value)
        entry["max"] = max(entry["max"], value)
    return summary


def step_series(rows: Iterable[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of one metric sorted by x: the step, or the logging position for rows without a step."""
    points: list[tuple[float, int, float]] = []
    for position, row in enumerate(r for r in rows if r.get("key") == key):
        value = _finite(row.get("value"))
        if value is None:
            continue
        step = row.get("step")
        points.append((float(position if step is None else step), position, value))
    points.sort()
    return [p[0] for p in points], [p[2] for p in points]


def downsample(
    xs: Sequence[float], ys: Sequence[float], max_points: int = CHART_POINTS
) -> tuple[list[float], list[float]]:
    """At most ``max(max_points, 4)`` of the points ``(xs, ys)`` (xs ascending), keeping each bucket's min and max."""
    count = len(xs)
    if count <= max_points or count < 3:
        return list(xs), list(ys)
    buckets = max(1, (max_points - 2) // 2)
    first, last = xs[0], xs[-1]
    width = (last - first) / buckets or 1.0
    keep: list[int] = [0]
    low = high = -1
    bucket = 0
    for i in range(1, count - 1):
        b = min(buckets - 1, int((xs[i] - first) / width))
        if b != bucket:
            keep.extend(sorted({low, high} - {-1}))
            bucket, low, high = b, -1, -1
        if low < 0 or ys[i] < ys[low]:
            low = i
        if high < 0 or ys[i] > ys[high]:
            high = i
    keep.extend(sorted({low, high} - {-1}))
    keep.append(count - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]
