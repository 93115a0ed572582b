"""Drift measures between two sets of counts over the same frozen bins, and their noise floors.

Definitions (p = the baseline's shares, q = the served shares, over the same k bins):
- Empty-bin rule: PSI and KL use smoothed shares: every bin of BOTH distributions gets
  PSEUDO_COUNT = 0.5 added to its count before normalising (Jeffreys / Krichevsky-Trofimov), so an
  empty bin on either side stays finite, and a category seen only in served traffic (the "unseen"
  bin, empty in training) weighs by what was observed, not by a fixed fill such as Evidently's 1e-4.
  JS and L-infinity use raw shares; both are finite with empty bins.
- PSI = sum_i (q_i - p_i) * ln(q_i / p_i), on smoothed shares.
- KL = max(KL(p||q), KL(q||p)), natural log, smoothed shares: the larger direction decides
  (KL(p||q) alone barely moves when mass appears only in q).
- JS = Jensen-Shannon divergence in bits, in [0, 1]: 0.5 KL(p||m) + 0.5 KL(q||m), m = (p + q) / 2;
  terms with a zero share contribute 0.
- L-infinity = max_i |q_i - p_i|, raw shares.
- Edge cases: no observed rows, no expected rows, bins of different lengths or negative counts raise
  ValueError; a single bin (k == 1) gives 0 for every measure.
- Noise floor of a measure at n served rows: its `quantile` (0.99) over `resamples` (500) pairs of
  multinomial samples drawn from the baseline's own shares, one of the baseline's size and one of n
  rows: the value the training distribution reaches against itself by chance at these sizes. Both
  sides are resampled because the baseline is a sample too (penguins' eval split is 62 rows). The 99th
  percentile, not the 95th: a window tests every feature and the prediction with four measures, and
  where a threshold sits below its floor a 95% floor alone would flag about one window in twenty per
  measure by chance.
"""

from __future__ import annotations

import numpy as np

MEASURES = ("psi", "kl", "js", "linf")
PSEUDO_COUNT = 0.5


def _counts(values: np.ndarray, what: str) -> np.ndarray:
    counts = np.asarray(values, dtype=np.float64)
    if (counts < 0).any():
        raise ValueError(f"negative counts in the {what} bins")
    return counts


def shares(counts: np.ndarray, smooth: bool) -> np.ndarray:
    """Bin shares of counts (last axis); `smooth` adds PSEUDO_COUNT to every bin first."""
    counts = np.asarray(counts, dtype=np.float64) + (PSEUDO_COUNT if smooth else 0.0)
    return counts / counts.sum(axis=-1, keepdims=True)


def _kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p||q) per row, natural log; terms where p is 0 contribute 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / q), 0.0)
    return terms.sum(axis=-1)


def measures_many(expected: np.ndarray, observed: np.ndarray) -> dict[str, np.ndarray]:
    """The four measures of each row of `observed` counts (r, k) against `expected` counts ((k,) or (r, k))."""
    expected, observed = _counts(expected, "expected"), _counts(np.atleast_2d(observed), "observed")
    if expected.shape[-1] != observed.shape[-1]:
        raise ValueError(f"expected has {expected.shape[-1]} bins, observed {observed.shape[-1]}")
    if (expected.sum(axis=-1) == 0).any():
        raise ValueError("no expected rows")
    if (observed.sum(axis=-1) == 0).any():
        raise ValueError("no observed rows")
    p, q = np.broadcast_to(shares(expected, smooth=True), observed.shape), shares(observed, smooth=True)
    raw_p, raw_q = np.broadcast_to(shares(expected, smooth=False), observed.shape), shares(observed, smooth=False)
    m = (raw_p + raw_q) / 2
    return {
        "psi": ((q - p) * np.log(q / p)).sum(axis=-1),
        "kl": np.maximum(_kl(p, q), _kl(q, p)),
        "js": (0.5 * _kl(raw_p, m) + 0.5 * _kl(raw_q, m)) / np.log(2),
        "linf": np.abs(raw_q - raw_p).max(axis=-1),
    }


def measures(expected: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    """Drift of `observed` bin counts from `expected` bin counts (same frozen bins): {"psi", "kl", "js", "linf"}."""
    if np.ndim(expected) != 1 or np.ndim(observed) != 1:
        raise ValueError(f"measures takes 1-D counts, got expected {np.shape(expected)}, observed {np.shape(observed)}")
    return {name: float(values[0]) for name, values in measures_many(expected, observed).items()}


def noise_floors(expected: np.ndarray, rows: int, resamples: int = 500, quantile: float = 0.99,
                 seed: int = 0) -> dict[str, float]:
    """Per measure, what the baseline distribution reaches against itself at these sample sizes (see the module
    docstring); 0 for every measure when there are no served rows."""
    expected = _counts(expected, "expected")
    if rows <= 0:
        return {name: 0.0 for name in MEASURES}
    if expected.sum() == 0:
        raise ValueError("no expected rows")
    rng = np.random.default_rng(seed)
    p = shares(expected, smooth=False)
    baseline = rng.multinomial(int(expected.sum()), p, size=resamples)
    served = rng.multinomial(int(rows), p, size=resamples)
    found = measures_many(baseline, served)
    return {name: float(np.quantile(values, quantile)) for name, values in found.items()}
