"""A model card's values as text: numbers to 4 significant digits, metric names for people, absent values as
"not recorded", and lenient reads of records that may lack a field (older registrations). Plain Python."""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from components.lib.card_blocks import Cell, muted
from components.lib.card_render import NOT_RECORDED

DASH = "—"
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro F1", "macro_precision": "macro precision",
                "macro_recall": "macro recall", "macro_roc_auc": "macro ROC AUC", "log_loss": "log loss",
                "rmse": "RMSE", "mae": "MAE", "r2": "R²", "count": "rows"}


def num(value: Any) -> str:
    """A value for a table: ints with thousands separators, floats to 4 significant digits, None as a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return DASH
        if abs(value) >= 1e4:
            return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
        return f"{value:.4g}"
    return plain(value)


def plain(value: Any) -> str:
    """Any JSON value as one line of text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def percent(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else DASH


def signed(value: float) -> str:
    return "0" if value == 0 else f"{value:+.4g}"


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def or_missing(value: Any, cell: Callable[[str], Cell] = str) -> Cell:
    """`value` as a cell of type `cell`, or "not recorded" when it is None or ""."""
    return muted(NOT_RECORDED) if value is None or value == "" else cell(plain(value))


def metric_name(name: str) -> str:
    return METRIC_NAMES.get(name, name.replace("_", " "))


def first_given(*values: Any) -> Any:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)
