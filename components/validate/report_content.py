"""What validate's two reports say, apart from how each draws it: the verdict, the run's facts, the tables.

The Markdown summary and the HTML page render the same `Table`s of `Cell`s (a cell knows whether
its value is above its threshold), so both always show the same anomalies and drift/skew figures.
Number formats and feature lookups shared by the page's statistics live here too. Pure functions of
a `ValidationResult`.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from components import keys
from components.validate.checks import ValidationResult

Feature = statistics_pb2.FeatureNameStatistics
Measurement = anomalies_pb2.DriftSkewInfo.Measurement

DASH = "—"
ALERT = "⚠"
MEASURES = {
    Measurement.L_INFTY: "L-infinity",
    Measurement.JENSEN_SHANNON_DIVERGENCE: "Jensen-Shannon",
    Measurement.NORMALIZED_ABSOLUTE_DIFFERENCE: "normalized absolute difference",
}


class Cell(NamedTuple):
    """One table cell's text, and whether it is a value above its threshold."""

    text: str
    alert: bool = False


class Table(NamedTuple):
    """A report table both renderers draw: rows of cells, or a sentence when there are none."""

    title: str
    headers: Sequence[str]
    rows: list[list[Cell]]
    empty: str
    note: str = ""


def number(value: float) -> str:
    """A figure to 4 significant digits."""
    return f"{value:.4g}"


def percent(part: float, whole: float) -> str:
    """`part` as a share of `whole` to one decimal, a dash when `whole` is 0."""
    return f"{100 * part / whole:.1f}%" if whole else DASH


def verdict(result: ValidationResult) -> str:
    """The data decision in two or three words."""
    return "Data OK" if result.data_ok else "Data NOT OK"


def _feature_name(feature: Feature) -> str:
    return ".".join(feature.path.step) or feature.name


def split_features(result: ValidationResult, split: str) -> dict[str, Feature]:
    """A split's feature statistics by name (its first dataset: validate computes one, unsliced)."""
    return {_feature_name(f): f for f in result.statistics[split].datasets[0].features}


def facts(result: ValidationResult) -> list[tuple[str, str]]:
    """The run's context, shown under the decision."""
    rows = ", ".join(
        f"{split} {result.statistics[split].datasets[0].num_examples:,}" for split in keys.SPLITS
    )
    return [
        ("Schema source", result.schema_source),
        ("Statistics engine", result.engine),
        ("Drift baseline", result.baseline_uri or "none (drift not checked)"),
        ("Rows", rows),
    ]


def _measure_cells(measurement: Measurement | None) -> list[Cell]:
    if measurement is None:
        return [Cell(DASH), Cell(DASH)]
    above = measurement.value > measurement.threshold
    return [Cell(number(measurement.value), above), Cell(number(measurement.threshold))]


def _drift_rows(result: ValidationResult) -> list[list[Cell]]:
    """One row per feature and measure, drift (vs the baseline) beside skew (train vs eval)."""
    rows = []
    for info in result.anomalies[keys.TRAIN].drift_skew_info:
        drift = {m.type: m for m in info.drift_measurements}
        skew = {m.type: m for m in info.skew_measurements}
        for measure in sorted(drift.keys() | skew.keys()):
            rows.append(
                [
                    Cell(".".join(info.path.step)),
                    Cell(MEASURES.get(measure, Measurement.Type.Name(measure))),
                    *_measure_cells(drift.get(measure)),
                    *_measure_cells(skew.get(measure)),
                ]
            )
    return rows


def tables(result: ValidationResult) -> list[Table]:
    """The anomalies and drift/skew tables, shared by the Markdown and the HTML report."""
    anomalies = [[Cell(r.split), Cell(r.feature), Cell(r.short), Cell(r.description)] for r in result.rows]
    return [
        Table(
            "Anomalies",
            ("split", "feature", "anomaly", "description"),
            anomalies,
            "No anomalies: every split matches the schema.",
        ),
        Table(
            "Drift and skew",
            ("feature", "measure", "drift value", "drift threshold", "skew value", "skew threshold"),
            _drift_rows(result),
            "Nothing measured: drift needs a baseline, skew a threshold above 0.",
            f"{ALERT} marks a value above its threshold. Drift compares train with the baseline, "
            "skew compares train with eval.",
        ),
    ]
