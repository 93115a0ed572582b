"""Estimated performance of a served classifier before its labels arrive, from its calibrated probabilities.

With calibrated probabilities P, row i is right with probability P[i, predicted_i], so the expected
accuracy is their weighted mean; per class c, the expected true positives are the P[i, c] of the
rows predicted c, and the expected support is the sum of P[i, c] over all rows, which give expected
precision, recall and F1 (NannyML's CBPE reasons the same way). The stated error of the accuracy is
the sampling spread of a realized accuracy if the calibration holds (95%: Z * sqrt(sum w^2 c(1-c)) /
sum w) plus the calibration's own cross-fitted error on the eval split (its ECE): the realized
figure, once labels exist, should fall inside it, and the report says when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from components.lib.calibration import Calibration, calibrated
from components.monitor.intervals import Interval, Z


@dataclass(frozen=True)
class Estimated:
    """Expected metrics of one version's served rows, the stated error, and the calibration they rest on."""

    rows: int
    metrics: dict[str, Interval]
    per_class: dict[str, dict[str, float | None]] = field(default_factory=dict)
    error: float = 0.0
    calibration_ok: bool = False
    calibration: str = ""


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def estimated_classification(probabilities: np.ndarray, weights: np.ndarray, classes: Sequence[str],
                             calibration: Calibration) -> Estimated | None:
    """The estimate over the rows whose probabilities were logged (None when none were)."""
    logged = np.isfinite(probabilities).all(axis=1) if probabilities.size else np.zeros(0, dtype=bool)
    if not logged.any():
        return None
    scores, w = calibrated(probabilities[logged], calibration.temperature), weights[logged]
    predicted = scores.argmax(axis=1)
    confident = scores[np.arange(len(scores)), predicted]
    total = w.sum()
    accuracy = float(np.dot(w, confident) / total)
    spread = Z * float(np.sqrt(np.dot(w * w, confident * (1 - confident)))) / total
    error = spread + (calibration.ece_after or 0.0)
    per_class: dict[str, dict[str, float | None]] = {}
    for c, name in enumerate(classes):
        chosen_rows = predicted == c
        hits = float(np.dot(w[chosen_rows], scores[chosen_rows, c]))
        chosen, support = float(w[chosen_rows].sum()), float(np.dot(w, scores[:, c]))
        precision = hits / chosen if chosen > 0 else None
        recall = hits / support if support > 0 else None
        per_class[name] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}
    f1s = [v["f1"] for v in per_class.values() if v["f1"] is not None]
    metrics = {"accuracy": Interval(accuracy, max(0.0, accuracy - error), min(1.0, accuracy + error)),
               "macro_f1": Interval(float(np.mean(f1s)) if f1s else None)}
    return Estimated(int(logged.sum()), metrics, per_class, error, calibration.ok, calibration.reason)


def estimate_misses(estimate: Estimated, realized: Interval) -> bool:
    """True when the realized accuracy's interval and the estimate's stated range do not overlap."""
    found = estimate.metrics["accuracy"]
    if realized.low is None or realized.high is None or found.low is None or found.high is None:
        return False
    return realized.high < found.low or realized.low > found.high
