"""The validate step's comparator thresholds, in a module of their own: `loopline run` checks them before a run
starts without importing TFDV."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Comparator thresholds: L-infinity for categorical, Jensen-Shannon for numeric; <= 0 turns one off.

    Each field is the validate component's (and the pipelines') parameter of the same name."""

    drift_categorical_threshold: float = 0.2
    drift_numeric_threshold: float = 0.2
    skew_categorical_threshold: float = 0.2
    skew_numeric_threshold: float = 0.2
