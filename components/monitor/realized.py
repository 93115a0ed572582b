"""Realized performance of one served version: its labelled rows scored with the evaluate step's metric code.

Each row is weighted by the rows it stands for (1 / the sample rate it was logged at), so a version
logged at 10% and one logged at 100% are measured on the traffic they served, not on what was kept.
Classification: accuracy and per-class recall and precision, which are proportions (Wilson's
interval at the effective size of the rows they count: all, the class's true rows, the rows
predicted as it; a bootstrap would give a perfect class an interval of one point), and macro F1
(Poisson-bootstrap interval). Regression: RMSE, MAE and R^2 (bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from components.evaluate.metrics import class_rates, confusion_summary, label_metrics, regression_metrics
from components.monitor.intervals import (
    Interval,
    bootstrap_confusion,
    bootstrap_rows,
    confusion_resamples,
    effective_rows,
    wilson,
)

HIGHER_IS_BETTER = {"accuracy": True, "macro_f1": True, "r2": True, "rmse": False, "mae": False}


@dataclass(frozen=True)
class Realized:
    """Metrics of the joined rows with their intervals; per class (classification) recall and precision."""

    rows: int
    weight: float
    metrics: dict[str, Interval]
    per_class: dict[str, dict[str, Interval]] = field(default_factory=dict)


def realized_classification(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray,
                            classes: Sequence[str]) -> Realized:
    """Accuracy, macro F1 and per-class rates of true vs predicted class indices, weighted."""
    k = len(classes)
    point = label_metrics(truth, predicted, k, weights)
    rates = class_rates(truth, predicted, classes, weights)
    matrices = confusion_resamples(truth, predicted, weights, k)
    metrics = {"accuracy": wilson(float(point["accuracy"]), effective_rows(weights)),
               "macro_f1": bootstrap_confusion(point["macro_f1"], matrices,
                                               lambda m: confusion_summary(m)["macro_f1"])}
    per_class = {name: {"recall": _share(rates[name]["recall"], weights[truth == c]),
                        "precision": _share(rates[name]["precision"], weights[predicted == c])}
                 for c, name in enumerate(classes)}
    return Realized(len(truth), float(weights.sum()), metrics, per_class)


def _share(value: float | None, counted: np.ndarray) -> Interval:
    """Wilson's interval of a per-class rate over the (weighted) rows it counts; no bounds when it is undefined."""
    return Interval(None) if value is None or not counted.size else wilson(value, effective_rows(counted))


def realized_regression(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> Realized:
    """RMSE, MAE and R^2 of true vs predicted values, weighted."""
    point = regression_metrics(truth, predicted, weights)
    metrics = {name: bootstrap_rows(point[name], len(truth),
                                    lambda draws, n=name: regression_metrics(truth, predicted, weights * draws)[n]
                                    if draws.any() else None)
               for name in ("rmse", "mae", "r2")}
    return Realized(len(truth), float(weights.sum()), metrics)


def degraded(metric: str, found: Interval, reference: float, tolerance: float) -> bool:
    """True when the interval says the metric is worse than `reference` by more than the tolerance: absolute for
    scores (accuracy, macro F1, R^2), relative for errors (RMSE, MAE)."""
    if found.low is None or found.high is None:
        return False
    if HIGHER_IS_BETTER[metric]:
        return found.high < reference - tolerance
    return found.low > reference * (1 + tolerance)
