"""Schema, anomalies, train/eval skew and drift with TFDV, summed up as one decision."""

from __future__ import annotations

from dataclasses import dataclass, field

import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components import keys
from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.validate.thresholds import Thresholds

Stats = statistics_pb2.DatasetFeatureStatisticsList


@dataclass(frozen=True)
class AnomalyRow:
    """One anomaly, flattened for tables: which split, which feature, what and how bad."""

    split: str
    feature: str
    short: str
    description: str
    severity: str


@dataclass(frozen=True)
class ValidationResult:
    """Everything validate found: statistics, the schema used, anomalies per split and the decision."""

    statistics: dict[str, Stats]
    schema: schema_pb2.Schema
    anomalies: dict[str, anomalies_pb2.Anomalies]
    schema_source: str
    baseline_uri: str
    engine: str
    rows: list[AnomalyRow] = field(default_factory=list)

    @property
    def data_ok(self) -> bool:
        """True when no split has any anomaly."""
        return not self.rows

    @property
    def reason(self) -> str:
        """One line a person can act on."""
        if self.data_ok:
            return "no anomalies: the data matches the schema, no skew or drift above the thresholds"
        listed = "; ".join(f"{r.split}/{r.feature}: {r.short}" for r in self.rows[:5])
        more = f" (+{len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
        return f"{len(self.rows)} anomalies: {listed}{more}"


def load_schema(schema_uri: str) -> schema_pb2.Schema:
    """A curated schema from a text-proto file (local or gs://), or a clear error."""
    if not uri_io.exists(schema_uri):
        raise LooplineInputError(f"reference schema not found: {schema_uri}")
    try:
        return text_format.Parse(uri_io.read_text(schema_uri), schema_pb2.Schema())
    except text_format.ParseError as err:
        raise LooplineInputError(f"reference schema {schema_uri} is not a Schema text proto: {err}") from err


def load_baseline(baseline_uri: str) -> Stats:
    """Baseline statistics: a binary statistics file, or an earlier validate's statistics folder (its train split)."""
    candidate = baseline_uri
    if not uri_io.exists(candidate):
        candidate = f"{baseline_uri.rstrip('/')}/{keys.STATS_FILE.format(split=keys.TRAIN)}"
    if not uri_io.exists(candidate):
        raise LooplineInputError(f"baseline statistics not found: {baseline_uri}")
    stats = Stats()
    try:
        stats.ParseFromString(uri_io.read_bytes(candidate))
    except Exception as err:  # protobuf raises DecodeError or RuntimeWarning-like errors
        raise LooplineInputError(f"baseline {candidate} is not a binary statistics proto: {err}") from err
    if not stats.datasets:
        raise LooplineInputError(f"baseline {candidate} holds no dataset statistics")
    return stats


def _is_categorical(feature: schema_pb2.Feature) -> bool:
    return feature.type == schema_pb2.BYTES or feature.HasField("domain") or feature.HasField("bool_domain")


def set_comparators(schema: schema_pb2.Schema, thresholds: Thresholds) -> None:
    """Put the skew and drift thresholds on every feature of the schema (TFDV reads them from there)."""
    for feature in schema.feature:
        categorical = _is_categorical(feature)
        for comparator, cat_t, num_t in (
            (feature.skew_comparator, thresholds.skew_categorical_threshold, thresholds.skew_numeric_threshold),
            (feature.drift_comparator, thresholds.drift_categorical_threshold, thresholds.drift_numeric_threshold),
        ):
            comparator.Clear()
            threshold = cat_t if categorical else num_t
            if threshold > 0:
                measure = comparator.infinity_norm if categorical else comparator.jensen_shannon_divergence
                measure.threshold = threshold


def anomaly_rows(split: str, anomalies: anomalies_pb2.Anomalies) -> list[AnomalyRow]:
    """TFDV's anomalies of one split, a row per reason (and the data set's own reasons)."""
    rows = []
    for name, info in sorted(anomalies.anomaly_info.items()):
        for reason in info.reason or [info]:
            rows.append(
                AnomalyRow(
                    split=split,
                    feature=name,
                    short=reason.short_description,
                    description=reason.description,
                    severity=anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                )
            )
    dataset = anomalies.dataset_anomaly_info
    for reason in dataset.reason if anomalies.HasField("dataset_anomaly_info") else []:
        rows.append(AnomalyRow(split, "(dataset)", reason.short_description, reason.description, "ERROR"))
    return rows


def validate(
    statistics: dict[str, Stats],
    schema: schema_pb2.Schema | None,
    thresholds: Thresholds,
    baseline: Stats | None = None,
) -> tuple[schema_pb2.Schema, dict[str, anomalies_pb2.Anomalies], list[AnomalyRow]]:
    """Check train (with skew against eval and drift against the baseline) and eval against the schema.

    With no schema (first use), one is inferred from train and widened to what eval holds
    (tfdv.update_schema), so it describes the whole data set rather than the luck of the split;
    checking new data against expectations is what a curated `schema` is for.
    """
    train, evaluation = statistics[keys.TRAIN], statistics[keys.EVAL]
    used = schema_pb2.Schema() if schema is None else schema
    if schema is None:
        used.CopyFrom(tfdv.update_schema(tfdv.infer_schema(train), evaluation))
    set_comparators(used, thresholds)
    anomalies = {
        keys.TRAIN: tfdv.validate_statistics(
            train, used, previous_statistics=baseline, serving_statistics=evaluation
        ),
        keys.EVAL: tfdv.validate_statistics(evaluation, used),
    }
    rows = [row for split, a in anomalies.items() for row in anomaly_rows(split, a)]
    return used, anomalies, rows
