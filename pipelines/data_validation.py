"""The data-validation pipeline: ingest -> validate, the data path every other pipeline starts with."""

from kfp import dsl

from components.ingest.component import ingest
from components.validate.component import validate

NAME = "loopline-data-validation"


def data_stage(
    source: str,
    label_column: str,
    eval_fraction: float,
    key_column: str,
    validate_args: dict,
) -> tuple[dsl.PipelineTask, dsl.PipelineTask]:
    """Add ingest and validate to the pipeline being defined; returns both tasks for later steps."""
    data = ingest(
        source=source, label_column=label_column, eval_fraction=eval_fraction, key_column=key_column
    ).set_display_name("ingest")
    checked = validate(train=data.outputs["train"], eval=data.outputs["eval"], **validate_args)
    return data, checked.set_display_name("validate")


@dsl.pipeline(name=NAME, description="Ingest a CSV/Parquet source and validate it with TFDV.")
def data_validation_pipeline(
    source: str,
    label_column: str = "species",
    eval_fraction: float = 0.2,
    key_column: str = "",
    schema_uri: str = "",
    baseline_statistics_uri: str = "",
    drift_categorical_threshold: float = 0.2,
    drift_numeric_threshold: float = 0.2,
    skew_categorical_threshold: float = 0.2,
    skew_numeric_threshold: float = 0.2,
    statistics_engine: str = "auto",
    beam_pipeline_args: list = [],
    on_anomalies: str = "fail",
):
    """Split the source into train/eval Parquet, then statistics, schema, anomalies, skew and drift."""
    data_stage(source, label_column, eval_fraction, key_column, dict(
        schema_uri=schema_uri,
        baseline_statistics_uri=baseline_statistics_uri,
        drift_categorical_threshold=drift_categorical_threshold,
        drift_numeric_threshold=drift_numeric_threshold,
        skew_categorical_threshold=skew_categorical_threshold,
        skew_numeric_threshold=skew_numeric_threshold,
        statistics_engine=statistics_engine,
        beam_pipeline_args=beam_pipeline_args,
        on_anomalies=on_anomalies,
    ))
