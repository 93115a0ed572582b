"""Metrics per slice of the evaluation data: one row per value of each categorical column, overall first.

A model can be good on average and poor for one island or one year; the slice table shows it.
Rows are plain dicts (JSON-ready); `slices_markdown` renders them for a KFP `dsl.Markdown` artifact.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from components.errors import LooplineInputError
from components.evaluate import metric_inputs, metrics
from components.lib import markdown
from components.lib.bundle import CLASSIFICATION, REGRESSION

OVERALL = "(overall)"
ALL = "(all)"
MISSING = "(missing)"
DASH = "—"
# The metrics measured on each slice, and their Markdown headers, per task.
SLICE_METRICS = {
    CLASSIFICATION: {"accuracy": "accuracy", "macro_f1": "macro F1"},
    REGRESSION: {"rmse": "RMSE", "mae": "MAE"},
}

Measure = Callable[[np.ndarray], dict[str, float | None]]


def _classification_measure(y_true: Any, predictions: Any, classes: Sequence[str] | None) -> tuple[int, Measure]:
    """Row count and a mask -> {accuracy, macro_f1} function, from probabilities (n, k) or class indices (n,)."""
    if np.ndim(predictions) == 2:
        k = np.shape(predictions)[1]
        names = list(classes) if classes is not None else [str(i) for i in range(k)]
        labels, probs, names = metric_inputs.check_classification(y_true, predictions, names)
        predicted = probs.argmax(axis=1)
    else:
        if classes is None:
            raise LooplineInputError("classes is required when predictions are class indices (1-D), not probabilities")
        k = len(classes)
        labels = metric_inputs.check_labels(y_true, "y_true", k)
        predicted = metric_inputs.check_labels(predictions, "y_pred", k)
        if len(labels) != len(predicted):
            raise LooplineInputError(f"y_true has {len(labels)} rows but y_pred has {len(predicted)}")

    def measure(mask: np.ndarray) -> dict[str, float | None]:
        scores = metrics.label_metrics(labels[mask], predicted[mask], k)
        return {name: scores[name] for name in SLICE_METRICS[CLASSIFICATION]}

    return len(labels), measure


def _regression_measure(y_true: Any, predictions: Any) -> tuple[int, Measure]:
    """Row count and a mask -> {rmse, mae} function."""
    truth, pred = metric_inputs.check_regression(y_true, predictions)
    errors = pred - truth

    def measure(mask: np.ndarray) -> dict[str, float | None]:
        return {"rmse": float(np.sqrt(np.mean(errors[mask] ** 2))), "mae": float(np.mean(np.abs(errors[mask])))}

    return len(truth), measure


def _value_label(value: Any) -> str:
    """A slice value as text; a whole float (a year read as float because of a gap) without its '.0'."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _slice_codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    """Each row's slice number in `column`, and the slices' names; missing values form "(missing)"."""
    if column not in frame.columns:
        raise LooplineInputError(f"slice column {column!r} is not in the data; columns: {list(frame.columns)}")
    series = frame[column]
    if isinstance(series, pd.DataFrame):
        raise LooplineInputError(f"slice column {column!r} appears more than once in the data")
    codes, uniques = pd.factorize(series)
    if pd.api.types.is_float_dtype(series.dtype) and not all(float(u).is_integer() for u in uniques):
        raise LooplineInputError(
            f"slice column {column!r} is continuous (fractional values): slice on categorical columns, "
            "or bin it into one first"
        )
    # Values that print alike (1 and 1.0 in an object column) are one slice, as the table shows them.
    names = [_value_label(u) for u in uniques] + [MISSING]
    codes = np.where(codes < 0, len(uniques), codes)
    merged, slice_names = pd.factorize(np.array(names, dtype=object))
    return merged[codes], list(slice_names)


def slice_metrics(
    frame: pd.DataFrame,
    slice_columns: Sequence[str],
    y_true: Any,
    y_pred_or_proba: Any,
    task: str,
    classes: Sequence[str] | None = None,
    min_rows: int = 1,
) -> list[dict[str, Any]]:
    """Metrics overall and per value of each slice column, the overall row first.

    `frame` holds the slice columns, its rows in the order of `y_true` (matched by position, not
    index). Classification takes probabilities (n, k) or predicted class indices (n,), and measures
    accuracy and macro F1; regression takes predictions and measures RMSE and MAE. Each row is
    {column, value, rows, <metrics>}; a slice with fewer than `min_rows` rows is listed with its
    count and None metrics (too few rows to mean anything).
    """
    metrics.check_task(task)
    if isinstance(slice_columns, str):
        slice_columns = [slice_columns]
    if isinstance(min_rows, bool) or not isinstance(min_rows, (int, np.integer)) or min_rows < 1:
        raise LooplineInputError(f"min_rows must be an integer of at least 1, got {min_rows!r}")
    if task == CLASSIFICATION:
        n, measure = _classification_measure(y_true, y_pred_or_proba, classes)
    else:
        n, measure = _regression_measure(y_true, y_pred_or_proba)
    if len(frame) != n:
        raise LooplineInputError(f"the slice frame has {len(frame)} rows but y_true has {n}")

    names = list(SLICE_METRICS[task])
    rows = [{"column": OVERALL, "value": ALL, "rows": n, **measure(np.ones(n, dtype=bool))}]
    for column in dict.fromkeys(slice_columns):
        codes, values = _slice_codes(frame, column)
        for i, value in enumerate(values):
            mask = codes == i
            count = int(mask.sum())
            if count == 0:  # the "(missing)" slice of a column with no missing value
                continue
            measured = measure(mask) if count >= min_rows else dict.fromkeys(names)
            rows.append({"column": column, "value": value, "rows": count, **measured})
    return rows


# --- Markdown -----------------------------------------------------------------------------------


def _sort_key(row: dict[str, Any]) -> tuple:
    """Overall first, then by column, then by value: numbers numerically, "(missing)" last."""
    value = str(row["value"])
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    key = (0, number, "") if math.isfinite(number) else (1, 0.0, value)
    return (row["column"] != OVERALL, str(row["column"]), value == MISSING, *key)


def _num(value: float | None) -> str:
    return DASH if value is None else f"{value:.4g}"


def slices_markdown(rows: list[dict[str, Any]], task: str, title: str) -> str:
    """The slice rows as a Markdown table (column | value | rows | metrics), values to 4 significant digits."""
    metrics.check_task(task)
    names = SLICE_METRICS[task]
    headers = ("column", "value", "rows", *names.values())
    ordered = sorted(rows, key=_sort_key)
    cells = [
        [markdown.cell(row["column"]), markdown.cell(row["value"]), f"{row['rows']:,}", *(_num(row[n]) for n in names)]
        for row in ordered
    ]
    lines = [f"# {markdown.cell(title)}", "", *markdown.table(headers, cells, align="ll" + "r" * (len(headers) - 2))]
    if any(row[name] is None for row in ordered for name in names):
        lines += ["", f"{DASH} marks a slice with too few rows to measure."]
    return "\n".join(lines) + "\n"
