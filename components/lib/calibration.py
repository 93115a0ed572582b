"""The calibration a classifier's bundle carries: a temperature fitted on the eval split, and how well it holds.

Monitoring estimates a served version's accuracy and per-class rates before labels arrive from its
predicted probabilities (components/monitor/estimate.py); that is only as good as the probabilities.
Temperature scaling divides the log probabilities by one number T: it keeps every row's predicted
class and fixes the common over- or under-confidence of a softmax network. T is chosen so that the
calibrated top probability averages the eval split's accuracy by Laplace's rule of succession,
(hits + 1) / (n + 2), which is the figure the estimate is about; minimising the log loss instead
drives T to 0 (certainty) on an eval split the model gets all right, as a small one often is. Its
quality is measured cross-fitted (T fitted on one half of the eval rows, the expected calibration
error (ECE) measured on the other, both ways round), so the error stated beside an estimate is not
the error of the rows T was fitted on. A calibration
whose cross-fitted ECE passes ECE_LIMIT, or made from fewer than MIN_ROWS rows, is `failed`: its
estimates are still shown, flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

METHOD = "temperature"
MIN_ROWS = 30
ECE_LIMIT = 0.1
LOG_T_RANGE = (-3.0, 3.0)  # T from 0.05 to 20
EPS = 1e-12


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature, the eval rows it came from, and its measured quality."""

    method: str
    temperature: float
    eval_rows: int
    ece_before: float | None  # ECE of the model's own probabilities on the eval split (None: too few rows)
    ece_after: float | None  # cross-fitted ECE of the calibrated probabilities: the estimate's calibration error
    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """As the baseline's JSON stores it."""
        return asdict(self)


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities (n, k) rescaled by the temperature: softmax(log p / T), each row's argmax unchanged."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def target_confidence(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The accuracy the calibrated confidence should average: Laplace's rule of succession, (hits + 1) / (n + 2)."""
    hits = int((probabilities.argmax(axis=1) == labels).sum())
    return (hits + 1) / (len(labels) + 2)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T whose calibrated top probabilities average `target_confidence`: bisection on log T (the mean top
    probability falls as T grows); a target out of reach gives the nearest end of the range."""
    goal = target_confidence(probabilities, labels)
    # The calibrated top probability is 1 / sum(exp((log p - max log p) / T)): the logs are taken once.
    logs = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), EPS, 1.0))
    below_top = logs - logs.max(axis=1, keepdims=True)
    low, high = LOG_T_RANGE
    for _ in range(60):
        middle = (low + high) / 2.0
        if (1.0 / np.exp(below_top / np.exp(middle)).sum(axis=1)).mean() > goal:
            low = middle
        else:
            high = middle
    return float(np.exp((low + high) / 2.0))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """ECE over equal-mass bins of the top probability (one bin per 20 rows, at most 10): the row-weighted mean of
    |accuracy - mean confidence| per bin."""
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    order = np.argsort(confidence, kind="stable")
    bins = np.array_split(order, max(1, min(10, len(labels) // 20)))
    return float(sum(len(b) * abs(correct[b].mean() - confidence[b].mean()) for b in bins if len(b)) / len(labels))


def _cross_fitted_ece(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """ECE of each half of the rows calibrated with the T fitted on the other half, row-weighted."""
    halves = (np.arange(len(labels)) % 2 == 0, np.arange(len(labels)) % 2 == 1)
    total = 0.0
    for fit_on, check_on in (halves, halves[::-1]):
        temperature = fit_temperature(probabilities[fit_on], labels[fit_on])
        total += check_on.sum() * expected_calibration_error(calibrated(probabilities[check_on], temperature),
                                                             labels[check_on])
    return float(total / len(labels))


def fit_calibration(probabilities: np.ndarray, labels: np.ndarray) -> Calibration:
    """Calibrate a classifier's eval-split probabilities (n, k) against the true class indices (n,)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    rows = len(labels)
    if rows < MIN_ROWS:
        return Calibration(METHOD, 1.0, rows, None, None, False,
                           f"{rows} eval rows, fewer than the {MIN_ROWS} a calibration needs: T left at 1")
    temperature = fit_temperature(probabilities, labels)
    before = expected_calibration_error(probabilities, labels)
    after = _cross_fitted_ece(probabilities, labels)
    ok = after <= ECE_LIMIT
    reason = (f"T = {temperature:.3g} on {rows:,} eval rows; cross-fitted ECE {after:.3f} (before {before:.3f})"
              + ("" if ok else f", above the limit {ECE_LIMIT:g}: the probabilities do not say how often the model "
                               "is right, so estimates from them are unreliable"))
    return Calibration(METHOD, temperature, rows, before, after, ok, reason)


def calibration_from(raw: dict[str, Any] | None) -> Calibration | None:
    """A stored calibration back from the baseline's JSON (None for regression or bundles made before it)."""
    return Calibration(**raw) if raw else None
