"""Metric summaries and the downsampling that keeps charts small whatever a run logged."""

from __future__ import annotations

import math

import pytest

from anacostia_blockchain.service.dashboard import downsample, step_series, summarize


def rows(*entries: tuple[str, float, int | None]) -> list[dict[str, object]]:
    return [{"key": key, "value": value, "step": step} for key, value, step in entries]


def test_summary_per_metric_in_logging_order() -> None:
    summary = summarize(rows(("loss", 0.9, 0), ("acc", 0.5, None), ("loss", 0.3, 1), ("loss", 0.4, 2)))
    assert summary["loss"] == {"last": 0.4, "min": 0.3, "max": 0.9, "count": 3, "last_step": 2}
    assert summary["acc"] == {"last": 0.5, "min": 0.5, "max": 0.5, "count": 1, "last_step": None}


def test_summary_skips_values_that_are_not_finite_numbers() -> None:
    assert summarize(rows(("x", math.nan, 0), ("x", 2.0, 1), ("y", math.inf, 0))) == {
        "x": {"last": 2.0, "min": 2.0, "max": 2.0, "count": 1, "last_step": 1}
    }


def test_step_series_sorts_by_step_and_numbers_stepless_rows_by_position() -> None:
    xs, ys = step_series(rows(("loss", 3.0, 2), ("other", 9.0, 0), ("loss", 1.0, 0), ("loss", 2.0, 1)), "loss")
    assert (xs, ys) == ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert step_series(rows(("acc", 0.1, None), ("acc", 0.2, None)), "acc") == ([0.0, 1.0], [0.1, 0.2])


def test_short_series_are_returned_unchanged() -> None:
    assert downsample([0, 1, 2], [5, 6, 7], 10) == ([0, 1, 2], [5, 6, 7])


def test_downsampling_bounds_the_points_and_keeps_extremes_and_ends() -> None:
    count = 200_000
    xs = [float(i) for i in range(count)]
    ys = [math.sin(i / 500) for i in range(count)]
    ys[123_457] = 50.0  # a single spike
    ys[77_001] = -50.0  # and a single drop
    shown_x, shown_y = downsample(xs, ys, 1000)
    assert len(shown_x) <= 1000 and len(shown_x) == len(shown_y)
    assert shown_x[0] == 0.0 and shown_x[-1] == count - 1
    assert max(shown_y) == 50.0 and min(shown_y) == -50.0
    assert shown_x == sorted(shown_x)
    assert (123_457.0, 50.0) in zip(shown_x, shown_y, strict=True)


def test_downsampling_with_uneven_steps() -> None:
    xs = [0.0, 1.0, 2.0, 3.0, 1000.0, 1001.0, 1002.0, 5000.0]
    ys = [1.0, 5.0, 2.0, 0.0, 7.0, 3.0, 9.0, 4.0]
    shown_x, shown_y = downsample(xs, ys, 6)
    assert len(shown_x) <= 6 and shown_x[0] == 0.0 and shown_x[-1] == 5000.0
    assert 9.0 in shown_y and 0.0 in shown_y


@pytest.mark.parametrize("points", [3, 4, 10])
def test_small_budgets_still_keep_first_and_last(points: int) -> None:
    xs = [float(i) for i in range(100)]
    shown_x, _ = downsample(xs, xs, points)
    assert shown_x[0] == 0.0 and shown_x[-1] == 99.0 and len(shown_x) <= max(points, 4)
