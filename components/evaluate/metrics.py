"""Classification and regression metrics from labels and predictions, in plain numpy (no scikit-learn).

Every value returned is a plain Python float, int, str, list, dict or None, so the dicts go straight
to JSON and to KFP's `Metrics` / `ClassificationMetrics`. Definitions follow scikit-learn's where
one exists; a metric the data cannot define is None (never NaN), and the dict's `notes` say why.
Bad input (wrong shape, empty, NaN, probabilities that are not probabilities, labels out of range)
raises `LooplineInputError`, a `ValueError` whose message names the problem (`metric_inputs`).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from components.errors import LooplineInputError
from components.evaluate.metric_inputs import check_classification, check_regression
from components.lib.bundle import CLASSIFICATION, REGRESSION

TASKS = (CLASSIFICATION, REGRESSION)

LOG_LOSS_EPS = 1e-15
MAX_ROC_POINTS = 200
# The ROC curve starts at (0, 0) with a threshold no score reaches. scikit-learn uses +inf there,
# which KFP's ClassificationMetrics cannot store; probabilities are at most 1.0, so the next float up.
ROC_START_THRESHOLD = math.nextafter(1.0, 2.0)


# --- tasks --------------------------------------------------------------------------------------


def check_task(task: str) -> str:
    """`task` if it is one loopline evaluates, else a ValueError naming the choices."""
    if task not in TASKS:
        raise LooplineInputError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    return task


# --- classification -----------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _confusion(labels: np.ndarray, predicted: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    """k x k counts (or weight sums), rows = true class, columns = predicted class."""
    return np.bincount(labels * k + predicted, weights=weights, minlength=k * k).reshape(k, k)


def _per_class_prf(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 per class (0 where the denominator is 0, as scikit-learn), and which are defined.

    A class with neither true rows nor predictions has no precision, recall or F1 at all: it is
    marked undefined and left out of macro averages (a model is not penalised for a class the
    data lacks and it never predicts). A class that is present but never predicted keeps precision 0.
    """
    tp = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        both = precision + recall
        f1 = np.where(both > 0, 2 * precision * recall / both, 0.0)
    return precision, recall, f1, (support > 0) | (predicted > 0)


def confusion_summary(confusion: np.ndarray) -> dict[str, float | None]:
    """Accuracy and macro precision/recall/F1 of a confusion matrix (counts, or weights of served rows)."""
    precision, recall, f1, defined = _per_class_prf(confusion)
    total = confusion.sum()
    return {
        "accuracy": float(np.trace(confusion) / total) if total else None,
        "macro_precision": _mean(precision[defined].tolist()),
        "macro_recall": _mean(recall[defined].tolist()),
        "macro_f1": _mean(f1[defined].tolist()),
    }


def confusion_rates(confusion: np.ndarray, classes: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Per class of a confusion matrix: precision, recall and F1 (None where the class is neither true nor
    predicted) and its support (the weight of its true rows)."""
    precision, recall, f1, defined = _per_class_prf(confusion)
    support = confusion.sum(axis=1)
    return {name: {"precision": float(precision[c]) if defined[c] else None,
                   "recall": float(recall[c]) if defined[c] else None,
                   "f1": float(f1[c]) if defined[c] else None, "support": float(support[c])}
            for c, name in enumerate(classes)}


def label_metrics(labels: np.ndarray, predicted: np.ndarray, k: int, weights: np.ndarray | None = None
                  ) -> dict[str, float | None]:
    """Accuracy and macro precision/recall/F1 of checked class indices (used for whole sets, slices and, weighted
    by the rows each logged row stands for, served traffic)."""
    return confusion_summary(_confusion(labels, predicted, k, weights))


def class_rates(labels: np.ndarray, predicted: np.ndarray, classes: Sequence[str],
                weights: np.ndarray | None = None) -> dict[str, dict[str, float | None]]:
    """Per class of checked class indices: precision, recall, F1 and support (see `confusion_rates`)."""
    return confusion_rates(_confusion(labels, predicted, len(classes), weights), classes)


def _average_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks, tied scores sharing the mean of the ranks they span (scipy's rankdata 'average')."""
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2.0)[inverse]


def _roc_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Exact one-vs-rest AUC: the Mann-Whitney U of the positives' ranks over n_pos * n_neg pairs.

    Equals the share of (positive, negative) pairs the scores order correctly, a tie counting 1/2.
    """
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    u = _average_ranks(scores)[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _even_indices(n: int, most: int) -> np.ndarray:
    """At most `most` of range(n), evenly spread, always the first and the last."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, most)).astype(np.int64))


def _roc_curve(positive: np.ndarray, scores: np.ndarray, max_points: int) -> dict[str, list[float]]:
    """ROC points, one per distinct score (descending thresholds), from (0, 0) to (1, 1), at most max_points."""
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    last_of_score = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    tps = np.cumsum(positive[order])[last_of_score]
    fps = last_of_score + 1 - tps
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    thresholds = np.r_[ROC_START_THRESHOLD, ordered[last_of_score]]
    keep = _even_indices(len(fpr), max_points)
    return {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist(), "thresholds": thresholds[keep].tolist()}


def classification_metrics(
    y_true: Any, proba: Any, classes: Sequence[str], *, max_roc_points: int = MAX_ROC_POINTS
) -> dict[str, Any]:
    """Metrics of predicted class probabilities against true class indices; binary is k = 2.

    The predicted class is the most probable one (the first on a tie). Keys: count, classes,
    accuracy, macro_precision, macro_recall, macro_f1, macro_roc_auc, log_loss, per_class (class
    name -> precision, recall, f1, support, roc_auc), confusion_matrix (rows true, columns
    predicted), roc_curves (class name -> fpr, tpr, thresholds; None where AUC is undefined),
    macro_excluded and roc_auc_excluded (class names left out of those macros), notes.
    """
    labels, probs, names = check_classification(y_true, proba, classes)
    if int(max_roc_points) < 2:
        raise LooplineInputError(f"max_roc_points must be at least 2 (the curve's two ends), got {max_roc_points}")
    n, k = probs.shape
    predicted = probs.argmax(axis=1)
    confusion = _confusion(labels, predicted, k)
    defined = _per_class_prf(confusion)[3]
    support = confusion.sum(axis=1)

    per_class: dict[str, dict[str, Any]] = class_rates(labels, predicted, names)
    curves: dict[str, dict[str, list[float]] | None] = {}
    aucs: list[float] = []
    for c, name in enumerate(names):
        positive = labels == c
        auc = None
        curves[name] = None
        if 0 < support[c] < n:
            auc = _roc_auc(positive, probs[:, c])
            aucs.append(auc)
            curves[name] = _roc_curve(positive, probs[:, c], int(max_roc_points))
        per_class[name].update(support=int(support[c]), roc_auc=auc)

    macro_excluded = [name for c, name in enumerate(names) if not defined[c]]
    absent = [name for c, name in enumerate(names) if support[c] == 0]
    everywhere = [name for c, name in enumerate(names) if support[c] == n]
    notes = []
    if macro_excluded:
        notes.append(
            f"precision, recall and F1 undefined for {_quoted(macro_excluded)} (absent from y_true and "
            "never predicted): left out of the macro averages"
        )
    if absent:
        notes.append(f"ROC AUC undefined for {_quoted(absent)} (absent from y_true): left out of macro_roc_auc")
    if everywhere:
        notes.append(
            f"ROC AUC undefined for {_quoted(everywhere)} (the class of every row, no negatives): "
            "left out of macro_roc_auc"
        )

    p_true = probs[np.arange(n), labels]
    return {
        "count": int(n),
        "classes": names,
        **label_metrics(labels, predicted, k),
        "macro_roc_auc": _mean(aucs),
        "log_loss": float(-np.mean(np.log(np.clip(p_true, LOG_LOSS_EPS, 1.0)))),
        "per_class": per_class,
        "confusion_matrix": confusion.tolist(),
        "roc_curves": curves,
        "macro_excluded": macro_excluded,
        "roc_auc_excluded": [name for c, name in enumerate(names) if not 0 < support[c] < n],
        "notes": notes,
    }


# --- regression ---------------------------------------------------------------------------------


def regression_metrics(y_true: Any, y_pred: Any, weights: np.ndarray | None = None) -> dict[str, Any]:
    """RMSE, MAE, R^2 and count of predictions against true values; R^2 is None when y_true is constant.

    Keys: count, rmse, mae, r2, notes. "Constant" is tested exactly (min == max), not as a variance
    of 0, which float rounding can miss (the mean of [0.1, 0.1, 0.1] is not 0.1). `weights`: the rows each
    row stands for (served traffic logged at a sample rate); None weighs every row alike.
    """
    truth, pred = check_regression(y_true, y_pred)
    errors = pred - truth
    notes = []
    if truth.min() == truth.max():
        r2 = None
        notes.append(f"R^2 undefined: every y_true is {truth[0]:g} (no variance)")
    else:
        centre = np.average(truth, weights=weights)
        r2 = float(1.0 - np.average(errors**2, weights=weights) / np.average((truth - centre) ** 2, weights=weights))
    return {
        "count": int(len(truth)),
        "rmse": float(np.sqrt(np.average(errors**2, weights=weights))),
        "mae": float(np.average(np.abs(errors), weights=weights)),
        "r2": r2,
        "notes": notes,
    }
