"""validate's KFP contract: typed artifacts in and out, one call into executor.validate."""

from typing import NamedTuple

from kfp import dsl


def validate(
    train: dsl.Input[dsl.Dataset],
    eval: dsl.Input[dsl.Dataset],
    statistics: dsl.Output[dsl.Artifact],
    schema: dsl.Output[dsl.Artifact],
    anomalies: dsl.Output[dsl.Artifact],
    report_html: dsl.Output[dsl.HTML],
    report_markdown: dsl.Output[dsl.Markdown],
    schema_uri: str = "",
    baseline_statistics_uri: str = "",
    drift_categorical_threshold: float = 0.2,
    drift_numeric_threshold: float = 0.2,
    skew_categorical_threshold: float = 0.2,
    skew_numeric_threshold: float = 0.2,
    statistics_engine: str = "auto",
    beam_pipeline_args: list = [],
    on_anomalies: str = "fail",
) -> NamedTuple("ValidateDecision", [("data_ok", bool), ("reason", str)]):
    """TFDV statistics, schema (inferred, or `schema_uri`), anomalies, train/eval skew and drift.

    Thresholds: L-infinity (categorical) and Jensen-Shannon (numeric); <= 0 turns a check off.
    `on_anomalies`: "fail" stops the run after writing the reports, "continue" records and goes on.
    """
    from collections import namedtuple
    from pathlib import Path

    from components.validate.executor import ValidateOutputs
    from components.validate.executor import validate as run_validate
    from components.validate.thresholds import Thresholds

    result = run_validate(
        Path(train.path),
        Path(eval.path),
        ValidateOutputs(
            Path(statistics.path),
            Path(schema.path),
            Path(anomalies.path),
            Path(report_html.path),
            Path(report_markdown.path),
        ),
        schema_uri=schema_uri,
        baseline_uri=baseline_statistics_uri,
        thresholds=Thresholds(
            drift_categorical_threshold=drift_categorical_threshold,
            drift_numeric_threshold=drift_numeric_threshold,
            skew_categorical_threshold=skew_categorical_threshold,
            skew_numeric_threshold=skew_numeric_threshold,
        ),
        engine=statistics_engine,
        beam_pipeline_args=beam_pipeline_args,
        on_anomalies=on_anomalies,
    )
    anomalies.metadata.update(data_ok=result.data_ok, reason=result.reason, engine=result.engine)
    return namedtuple("ValidateDecision", ["data_ok", "reason"])(result.data_ok, result.reason)
