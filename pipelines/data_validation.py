"""The data-validation pipeline: ingest -> validate, the data path every other pipeline starts with."""

from kfp import dsl

from components import keys
from components.catalog import Components, build
from pipelines.settings import CompileSettings
from pipelines.task_settings import configure

NAME = "loopline-data-validation"


def add_data_stage(steps: Components, settings: CompileSettings, *, source: str, label_column: str,
                   eval_fraction: float, key_column: str, **validate_parameters: object,
                   ) -> tuple[dsl.PipelineTask, dsl.PipelineTask]:
    """Add ingest and validate to the pipeline being defined; `validate_parameters` are validate's own
    (thresholds, schema and baseline URIs, engine, policy), by name. Returns both tasks."""
    data = configure(steps.ingest(source=source, label_column=label_column, eval_fraction=eval_fraction,
                                  key_column=key_column), "ingest", settings)
    checked = steps.validate(train=data.outputs[keys.TRAIN], eval=data.outputs[keys.EVAL], **validate_parameters)
    return data, configure(checked, "validate", settings)


def create_pipeline(settings: CompileSettings) -> dsl.graph_component.GraphComponent:
    """The data-validation pipeline built for these compile-time settings."""
    steps = build(settings.images)

    @dsl.pipeline(name=NAME, pipeline_root=settings.pipeline_root,
                  description="Ingest a CSV/Parquet source and validate it with TFDV.")
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
        add_data_stage(
            steps, settings, source=source, label_column=label_column, eval_fraction=eval_fraction,
            key_column=key_column, schema_uri=schema_uri, baseline_statistics_uri=baseline_statistics_uri,
            drift_categorical_threshold=drift_categorical_threshold, drift_numeric_threshold=drift_numeric_threshold,
            skew_categorical_threshold=skew_categorical_threshold, skew_numeric_threshold=skew_numeric_threshold,
            statistics_engine=statistics_engine, beam_pipeline_args=beam_pipeline_args, on_anomalies=on_anomalies,
        )

    return data_validation_pipeline
