"""95% intervals for metrics of weighted rows: Wilson's for a proportion, a Poisson bootstrap for the rest.

Served rows carry weights (1 / the sample rate they were logged at), so the sample size behind a
proportion is the effective one, (sum w)^2 / sum w^2 (Kish). The bootstrap draws each row's count
from Poisson(1) (the large-sample equivalent of resampling with replacement, and it needs no row
order); rows of one class pair and weight are exchangeable, so for a classifier the draws are made
per such group, Poisson(group size), and the confusion matrices of all resamples come from one
matrix product. Seeded: the same rows give the same interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval
RESAMPLES = 400
SEED = 20261202


@dataclass(frozen=True)
class Interval:
    """A metric's value and its 95% interval; low and high are None when the data cannot bound it."""

    value: float | None
    low: float | None = None
    high: float | None = None

    def shown(self) -> str:
        """`0.912 [0.884, 0.936]` (or `—`)."""
        if self.value is None:
            return "—"
        bounds = f" [{self.low:.3f}, {self.high:.3f}]" if self.low is not None and self.high is not None else ""
        return f"{self.value:.3f}{bounds}"


def effective_rows(weights: np.ndarray) -> float:
    """Kish's effective sample size of weighted rows."""
    return float(weights.sum() ** 2 / np.square(weights).sum()) if weights.size else 0.0


def wilson(share: float, rows: float) -> Interval:
    """Wilson's score interval for a proportion `share` seen on `rows` (effective) rows."""
    if rows <= 0:
        return Interval(None)
    centre = (share + Z * Z / (2 * rows)) / (1 + Z * Z / rows)
    half = Z * np.sqrt(share * (1 - share) / rows + Z * Z / (4 * rows * rows)) / (1 + Z * Z / rows)
    # Rounding can leave the bound a hair inside a share of exactly 0 or 1: the interval always holds the share.
    return Interval(share, float(min(share, max(0.0, centre - half))), float(max(share, min(1.0, centre + half))))


def _percentiles(value: float | None, found: list[float | None]) -> Interval:
    """The 2.5th and 97.5th percentiles of the resamples' values; no bounds when half of them are undefined."""
    samples = np.array([np.nan if f is None else f for f in found], dtype=np.float64)
    samples = samples[np.isfinite(samples)]
    if value is None or samples.size < len(found) / 2:
        return Interval(value)
    low, high = np.percentile(samples, [2.5, 97.5])
    return Interval(value, float(low), float(high))


def confusion_resamples(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray, k: int,
                        resamples: int = RESAMPLES) -> np.ndarray:
    """(resamples, k, k) weighted confusion matrices of Poisson-bootstrapped rows."""
    weight_values, weight_codes = np.unique(weights, return_inverse=True)
    group = (truth * k + predicted) * len(weight_values) + weight_codes
    groups, sizes = np.unique(group, return_counts=True)
    cell, weight_of = groups // len(weight_values), weight_values[groups % len(weight_values)]
    draws = np.random.default_rng(SEED).poisson(sizes, size=(resamples, len(groups))).astype(np.float64)
    placement = np.zeros((len(groups), k * k))
    placement[np.arange(len(groups)), cell] = weight_of
    return (draws @ placement).reshape(resamples, k, k)


def bootstrap_confusion(value: float | None, matrices: np.ndarray, metric: Callable[[np.ndarray], float | None]
                        ) -> Interval:
    """The interval of a metric of a confusion matrix over bootstrapped matrices."""
    return _percentiles(value, [metric(m) for m in matrices])


def bootstrap_rows(value: float | None, rows: int, metric: Callable[[np.ndarray], float | None],
                   resamples: int = RESAMPLES // 2) -> Interval:
    """The interval of a metric of weighted rows, `metric(counts)` taking each row's Poisson draw as extra weight."""
    rng = np.random.default_rng(SEED)
    return _percentiles(value, [metric(rng.poisson(1.0, rows).astype(np.float64)) for _ in range(resamples)])
