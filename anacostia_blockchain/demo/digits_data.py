"""The demo's data: scikit-learn's handwritten digits (shipped inside the scikit-learn wheel, no download).

The 1,797 8x8 images are split once, deterministically, into a held-out evaluation set and a training pool; the
training pool is cut into batches written as CSV files (``p0..p63,label``) that the demo drops into the watched
folder one after another. :func:`write_bad_batch` writes a file that fails validation (a non-numeric pixel), which the
data-prep node must quarantine without failing the run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PIXELS = 64
FIELD_NAMES = [f"p{i}" for i in range(PIXELS)] + ["label"]
EVAL_FRACTION = 0.25
SPLIT_SEED = 7


@dataclass(frozen=True)
class DigitsSplit:
    train_x: np.ndarray
    train_y: np.ndarray
    eval_x: np.ndarray
    eval_y: np.ndarray


def load_split() -> DigitsSplit:
    """The fixed train/eval split of sklearn's digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(digits.target))
    n_eval = int(len(order) * EVAL_FRACTION)
    eval_idx, train_idx = order[:n_eval], order[n_eval:]
    x = digits.data.astype(np.int64)
    y = digits.target.astype(np.int64)
    return DigitsSplit(x[train_idx], y[train_idx], x[eval_idx], y[eval_idx])


def training_batches(n_batches: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The training pool cut into ``n_batches`` nearly equal parts, in a fixed order."""
    split = load_split()
    xs = np.array_split(split.train_x, n_batches)
    ys = np.array_split(split.train_y, n_batches)
    return list(zip(xs, ys, strict=True))


def write_batch(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """Write one batch as CSV atomically (temp file + rename, so a watcher never sees half a file)."""
    tmp = path.with_name(f".{path.name}.partial")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELD_NAMES)
        for row, label in zip(x.tolist(), y.tolist(), strict=True):
            writer.writerow([*row, label])
    tmp.replace(path)
    return path


def write_bad_batch(path: Path) -> Path:
    """A batch whose third row has a non-numeric pixel: it must be quarantined, not trained on."""
    split = load_split()
    tmp = path.with_name(f".{path.name}.partial")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELD_NAMES)
        for i, (row, label) in enumerate(zip(split.train_x[:5].tolist(), split.train_y[:5].tolist(), strict=True)):
            cells = [*row, label]
            if i == 2:
                cells[10] = "smudge"
            writer.writerow(cells)
    tmp.replace(path)
    return path
