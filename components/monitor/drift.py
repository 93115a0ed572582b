"""Drift of one version's served rows against its frozen bins: the four measures, their noise floors, the verdict.

A measure flags a feature only when it is above its threshold AND above its noise floor at the
window's size (the value the training distribution itself reaches on that many rows), so small
samples are not called drift and a real shift on a large sample is. Beside the four measures, a
`new` check flags a categorical feature whose served values fall in bins the training data never
filled (an unseen category; missing where training had none) once their share passes its threshold:
with a small training set the smoothed measures weigh 3% of a new category too lightly to trust them
alone with it, and its floor is 0 (the training distribution never produces such values). Numeric
values beyond the training range are not "new": a sample of n rows leaves about 1/(n+1) of the
population above its maximum, and below its minimum; the measures judge those bins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from components.lib.baseline import PREDICTION, Baseline, Bins, bin_counts
from components.lib.bundle import CATEGORICAL
from components.monitor.measures import MEASURES, measures, noise_floors

# Defaults, per measure: PSI's usual "major shift" line, KL likewise, JS in bits and L-infinity as TFDV's
# comparators are commonly set.
# `new`: the share of served rows in bins empty in training.
THRESHOLDS = {"psi": 0.2, "kl": 0.2, "js": 0.1, "linf": 0.1, "new": 0.01}
CHECKS = (*MEASURES, "new")
RESAMPLES = 500


@dataclass(frozen=True)
class FeatureDrift:
    """One feature (or the prediction): bins, training and served counts, each measure with its floor."""

    name: str
    labels: list[str]
    train_counts: list[int]
    served_counts: list[int]
    measures: dict[str, float]
    floors: dict[str, float]
    new_values: dict[str, float] = field(default_factory=dict)  # bin label -> served share, bins empty in training
    drifted_by: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        """True when at least one measure is above its threshold and its floor."""
        return bool(self.drifted_by)

    def describe(self, thresholds: dict[str, float]) -> str:
        """`body_mass_g (psi 0.41 > 0.2, floor 0.012; ...)` for the checks that flagged it."""
        parts = [f"{m} {self.measures[m]:.3g} > {thresholds[m]:g}, floor {self.floors[m]:.2g}" for m in self.drifted_by
                 if m in MEASURES]
        if "new" in self.drifted_by:
            shown = ", ".join(f"{label} {share:.1%}" for label, share in self.new_values.items())
            parts.append(f"new values {sum(self.new_values.values()):.1%} > {thresholds['new']:.0%}: {shown}")
        return f"{self.name} ({'; '.join(parts)})"


def feature_drift(bins: Bins, values: np.ndarray, thresholds: dict[str, float], resamples: int = RESAMPLES
                  ) -> FeatureDrift:
    """Count served `values` into the frozen bins and measure them against the training counts."""
    served = bin_counts(bins, values)
    train = np.asarray(bins.counts, dtype=np.int64)
    found = measures(train, served)
    floors = noise_floors(train, int(served.sum()), resamples=resamples)
    flagged = [m for m in MEASURES if found[m] > thresholds[m] and found[m] > floors[m]]
    rows = max(int(served.sum()), 1)
    new = ({label: int(n) / rows for label, n, t in zip(bins.labels, served, train) if t == 0 and n > 0}
           if bins.kind == CATEGORICAL else {})
    if sum(new.values()) > thresholds["new"]:
        flagged.append("new")
    return FeatureDrift(bins.name, bins.labels, bins.counts, [int(c) for c in served], found, floors, new, flagged)


def version_drift(baseline: Baseline, columns: dict[str, np.ndarray], thresholds: dict[str, float]
                  ) -> list[FeatureDrift]:
    """Every feature's drift, then the prediction's, for one version's served columns."""
    return [feature_drift(bins, columns[bins.name], thresholds) for bins in baseline.features] + [
        feature_drift(baseline.prediction, columns[PREDICTION], thresholds)]

