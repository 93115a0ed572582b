"""How well one served version does: labels joined to its logged rows, realized and estimated metrics, verdicts.

Labels (from `loopline feedback`, components/lib/labels.py) join the logged rows by inference id.
Labels take time to come back, so realized metrics are measured on the window shifted back by the
maturity (the rows served `maturity_hours` earlier, as SageMaker's model quality offsets its
window), whose rows have had that long to get one; the label coverage is their labelled share,
weighted by the rows each logged row stands for. The estimate is of the window itself. Realized
metrics are compared with the version's own eval metrics from the registry and its floors, and a
degradation beyond the tolerance that the interval supports (the whole interval on the wrong side)
on at least `min_labels` rows is a retrain reason naming the metric. The estimate (classification)
is shown beside it, and so is the estimate of the very rows that got labels, made from their
probabilities alone: the report flags it when the realized figure falls outside its stated error,
and a calibration that failed at training time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.lib.baseline import PREDICTION, Baseline
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, REGRESSION
from components.lib.calibration import calibration_from
from components.monitor.estimate import Estimated, estimate_misses, estimated_classification
from components.monitor.log_reading import Served
from components.monitor.realized import (
    HIGHER_IS_BETTER,
    Realized,
    degraded,
    realized_classification,
    realized_regression,
)

TOLERANCE = 0.05
MIN_LABELS = 50
MATURITY_HOURS = 24.0
LIMIT_NAME = re.compile(r"^(min|max)_([a-z0-9_]+)$")


@dataclass(frozen=True, kw_only=True)
class PerformanceSettings:
    """How performance is judged: the labels' maturity window, the tolerance vs eval, the labels a verdict needs."""

    maturity_hours: float = MATURITY_HOURS
    performance_tolerance: float = TOLERANCE
    min_labels: int = MIN_LABELS


@dataclass(frozen=True)
class Performance:
    """One version's labels, realized and estimated metrics, the references they are judged against, and findings."""

    task: str
    rows: int  # in the window
    mature_rows: int  # in the labels' window (the window shifted back by the maturity)
    labelled_rows: int  # of the mature rows
    label_coverage: float | None  # weighted labelled share of the mature rows (None: no mature rows)
    unusable_labels: int  # joined labels outside this version's classes (or not numbers)
    realized: Realized | None
    estimated: Estimated | None  # of the window's rows
    estimated_labelled: Estimated | None  # of the labelled rows, from their probabilities alone: the estimate's check
    reference: dict[str, float]  # the version's eval metrics (registry)
    limits: dict[str, float]  # its floors (min_<metric>) and ceilings (max_<metric>)
    degradations: list[str] = field(default_factory=list)  # realized findings: retrain reasons
    warnings: list[str] = field(default_factory=list)  # estimate findings: reported, never a retrain alone
    estimate_missed: bool = False


def references(info: dict) -> tuple[dict[str, float], dict[str, float]]:
    """A registry version's eval metrics and its floors and ceilings (the evaluate step's min_/max_ checks)."""
    metrics = {k: float(v) for k, v in (info.get("metrics") or {}).items()
               if k in HIGHER_IS_BETTER and isinstance(v, (int, float))}
    limits = {}
    for check in ((info.get("decision") or {}).get("checks")) or []:
        name = LIMIT_NAME.match(str(check.get("name", ""))) if isinstance(check, dict) else None
        if name and name.group(2) in HIGHER_IS_BETTER and isinstance(check.get("limit"), (int, float)):
            limits[check["name"]] = float(check["limit"])
    return metrics, limits


def _join(ids: pa.Array, labels: pa.Table) -> tuple[np.ndarray, pa.Array]:
    """Which rows have a label, and those labels (strings) in row order."""
    if not labels.num_rows or not len(ids):
        return np.zeros(len(ids), dtype=bool), pa.array([], pa.string())
    position = pc.index_in(ids, value_set=labels.column("inference_id").combine_chunks())
    found = np.asarray(position.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return found, pc.take(labels.column("label").combine_chunks(), position.filter(position.is_valid()))


def _class_index(values: np.ndarray | pa.Array, classes: list[str]) -> np.ndarray:
    """Class indices of label or prediction strings; -1 for a value outside the classes."""
    words = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(str(w), -1) for w in words], dtype=np.int64)


def _numbers(values: pa.Array) -> np.ndarray:
    """Regression labels as floats; NaN for one that is not a number."""
    try:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.array([_number(v) for v in values.to_pylist()], dtype=np.float64)


def _number(text: object) -> float:
    try:
        return float(str(text))
    except ValueError:
        return float("nan")


def _realized(served: Served, found: np.ndarray, labels: pa.Array, weights: np.ndarray, baseline: Baseline
              ) -> tuple[Realized | None, int]:
    """Realized metrics of the joined rows, and the count of labels that could not be scored."""
    if baseline.prediction.kind == CATEGORICAL:
        classes = baseline.prediction.vocabulary
        truth, predicted = _class_index(labels, classes), _class_index(served.column(PREDICTION)[found], classes)
        usable = (truth >= 0) & (predicted >= 0)
        result = (realized_classification(truth[usable], predicted[usable], weights[found][usable], classes)
                  if usable.any() else None)
        return result, int((~usable).sum())
    truth = _numbers(labels)
    predicted = np.asarray(served.column(PREDICTION)[found], dtype=np.float64)
    usable = np.isfinite(truth) & np.isfinite(predicted)
    result = realized_regression(truth[usable], predicted[usable], weights[found][usable]) if usable.any() else None
    return result, int((~usable).sum())


def _findings(version: str, realized: Realized | None, estimated: Estimated | None, reference: dict[str, float],
              limits: dict[str, float], tolerance: float, min_labels: int) -> tuple[list[str], list[str]]:
    """Realized degradations (beyond the tolerance vs eval, or past a floor or ceiling) and estimate warnings."""
    degradations, warnings = [], []
    if realized is not None and realized.rows >= min_labels:
        for metric, found in realized.metrics.items():
            at = f"{metric} {found.shown()} on {realized.rows:,} labelled rows"
            if metric in reference and degraded(metric, found, reference[metric], tolerance):
                degradations.append(f"{at}, worse than v{version}'s eval {reference[metric]:.3f} by more than the "
                                    f"tolerance {tolerance:g}")
            for name, limit in limits.items():
                if name.endswith(f"_{metric}") and degraded(metric, found, limit, 0.0):
                    degradations.append(f"{at}, past its {'floor' if name.startswith('min_') else 'ceiling'} "
                                        f"{name} {limit:g}")
    if estimated is not None:
        found = estimated.metrics["accuracy"]
        if "accuracy" in reference and degraded("accuracy", found, reference["accuracy"], tolerance):
            warnings.append(f"estimated accuracy {found.shown()} (before labels), worse than v{version}'s eval "
                            f"{reference['accuracy']:.3f} by more than the tolerance {tolerance:g}")
        if not estimated.calibration_ok:
            warnings.append(f"v{version}'s calibration failed ({estimated.calibration}): its estimates are unreliable")
    return degradations, warnings


def performance(served: Served, matured: Served, labels: pa.Table, baseline: Baseline, info: dict,
                settings: PerformanceSettings = PerformanceSettings()) -> Performance:
    """One version's performance: estimated on `served` (the window's rows), realized and label coverage on
    `matured` (the rows of the window shifted back by the maturity, which have had that long to get a label),
    joined to `labels` (inference_id, label) from the store; `info` is its registry record's info."""
    task = CLASSIFICATION if baseline.prediction.kind == CATEGORICAL else REGRESSION
    weights = matured.weights()
    found, joined = _join(matured.inference_ids(), labels)
    coverage = float(weights[found].sum() / weights.sum()) if matured.rows else None
    realized, unusable = _realized(matured, found, joined, weights, baseline) if found.any() else (None, 0)
    calibration = calibration_from(baseline.calibration)
    estimated = (estimated_classification(served.probabilities(), served.weights(),
                                          baseline.prediction.vocabulary, calibration)
                 if task == CLASSIFICATION and calibration and served.rows else None)
    reference, limits = references(info)
    tolerance, min_labels = settings.performance_tolerance, settings.min_labels
    then = (estimated_classification(matured.probabilities()[found], weights[found], baseline.prediction.vocabulary,
                                     calibration) if task == CLASSIFICATION and calibration and found.any() else None)
    degradations, warnings = _findings(served.version, realized, estimated, reference, limits, tolerance, min_labels)
    missed = bool(then and realized and realized.rows >= min_labels
                  and estimate_misses(then, realized.metrics["accuracy"]))
    if missed:
        warnings.append(f"the estimate missed: realized accuracy {realized.metrics['accuracy'].shown()} is outside "
                        f"the estimate of the same rows {then.metrics['accuracy'].shown()} (the calibration does not "
                        "hold on this traffic)")
    return Performance(task, served.rows, matured.rows, int(found.sum()), coverage, unusable, realized,
                       estimated, then, reference, limits, degradations, warnings, missed)
