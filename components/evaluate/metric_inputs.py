"""The checks of the arrays loopline's metrics are computed from: labels, probabilities, predictions.

Each check returns its input as a clean numpy array or raises `LooplineInputError` (a `ValueError`)
whose message names the argument, the problem and the first row it was found in: a wrong shape,
an empty array, NaN or infinity, strings where numbers belong, labels out of range, probability
rows that are not probabilities. `metrics` and `slices` both check through here, so a bad input
gets the same message whichever computes on it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from components.errors import LooplineInputError

SUM_TOLERANCE = 1e-3


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _float(value: Any) -> float:
    """One element of an object array as a float, None and pandas' NA as NaN."""
    if value is None or type(value).__name__ == "NAType":
        return math.nan
    return float(value)


def _numbers(values: Any, name: str, ndim: int) -> np.ndarray:
    """`values` as a finite, non-empty float array of `ndim` dimensions ((n, 1) counts as 1-D)."""
    array = np.asarray(values)
    if array.dtype.kind in "USM" or array.dtype.kind == "c":
        raise LooplineInputError(f"{name} must be numeric, got dtype {array.dtype}")
    try:
        array = np.vectorize(_float, otypes=[float])(array) if array.dtype.kind == "O" else array.astype(float)
    except (TypeError, ValueError) as err:
        raise LooplineInputError(f"{name} must be numeric: {err}") from None
    if ndim == 1 and array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != ndim:
        raise LooplineInputError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0:
        raise LooplineInputError(f"{name} is empty (shape {array.shape})")
    nan = np.isnan(array).reshape(len(array), -1).any(axis=1)
    if nan.any():
        raise LooplineInputError(f"{name} has NaN in {int(nan.sum())} row(s), the first at row {_first(nan)}")
    infinite = ~np.isfinite(array).reshape(len(array), -1).all(axis=1)
    if infinite.any():
        raise LooplineInputError(
            f"{name} has infinite values in {int(infinite.sum())} row(s), the first at row {_first(infinite)}"
        )
    return array


def _class_names(classes: Sequence[str]) -> list[str]:
    names = [str(c) for c in classes]
    if len(names) < 2:
        raise LooplineInputError(f"classes must name at least 2 classes, got {names}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LooplineInputError(f"classes must be unique, got duplicates {duplicates}")
    return names


def check_labels(values: Any, name: str, k: int) -> np.ndarray:
    """Class indices 0..k-1 as a 1-D int array; strings, fractions, NaN and out-of-range values refused."""
    if np.asarray(values).dtype.kind in "US":
        raise LooplineInputError(
            f"{name} must hold class indices 0..{k - 1}, got strings: map labels to their index in classes"
        )
    array = _numbers(values, name, ndim=1)
    fractional = array != np.round(array)
    if fractional.any():
        i = _first(fractional)
        raise LooplineInputError(f"{name} must hold class indices, got {array[i]!r} at row {i}")
    outside = (array < 0) | (array >= k)
    if outside.any():
        bad = sorted({int(v) for v in array[outside]})[:5]
        raise LooplineInputError(
            f"{name} has {int(outside.sum())} label(s) outside 0..{k - 1} (one per class): {bad}"
        )
    return array.astype(np.int64)


def check_classification(
    y_true: Any, proba: Any, classes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Checked (labels, probabilities, class names): proba is (n, k), rows in [0, 1] summing to 1."""
    names = _class_names(classes)
    k = len(names)
    labels = check_labels(y_true, "y_true", k)
    probs = _numbers(proba, "proba", ndim=2)
    if probs.shape != (len(labels), k):
        raise LooplineInputError(
            f"proba has shape {probs.shape}, expected ({len(labels)}, {k}): "
            "one row per y_true value, one column per class"
        )
    outside = (probs < 0) | (probs > 1)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise LooplineInputError(
            f"proba must hold probabilities in [0, 1]: {int(outside.sum())} value(s) outside, "
            f"e.g. {probs[row, col]!r} at row {row}, class {names[col]!r}"
        )
    sums = probs.sum(axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        i = _first(off)
        raise LooplineInputError(
            f"proba rows must sum to 1 (within {SUM_TOLERANCE:g}): {int(off.sum())} row(s) do not, "
            f"e.g. row {i} sums to {sums[i]:.6g}"
        )
    return labels, probs, names


def check_regression(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checked (truth, predictions): finite, non-empty, the same length ((n, 1) predictions allowed)."""
    truth = _numbers(y_true, "y_true", ndim=1)
    pred = _numbers(y_pred, "y_pred", ndim=1)
    if truth.shape != pred.shape:
        raise LooplineInputError(f"y_true has {len(truth)} rows but y_pred has {len(pred)}")
    return truth, pred
