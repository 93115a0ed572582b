"""The data-validation pipeline: ingest -> validate, the data path every other pipeline starts with."""

from kfp import dsl

from components.ingest.component import ingest
from components.validate.component import validate
from pipelines.task_settings import PIPELINE_ROOT, configure

NAME = "loopline-data-validation"


# validate's parameters, which every pipeline that starts with the data stage exposes as its own.
VALIDATE_PARAMETERS = (
    "schema_uri", "baseline_statistics_uri", "drift_categorical_threshold", "drift_numeric_threshold",
    "skew_categorical_threshold", "skew_numeric_threshold", "statistics_engine", "beam_pipeline_args",
    "on_anomalies",
)


def data_stage(parameters: dict) -> tuple[dsl.PipelineTask, dsl.PipelineTask]:
    """Add ingest and validate to the pipeline being defined, wired to its parameters (its `locals()`);
    returns both tasks for later steps."""
    data = configure(ingest(
        source=parameters["source"], label_column=parameters["label_column"],
        eval_fraction=parameters["eval_fraction"], key_column=parameters["key_column"],
    ), "ingest")
    checked = validate(train=data.outputs["train"], eval=data.outputs["eval"],
                       **{name: parameters[name] for name in VALIDATE_PARAMETERS})
    return data, configure(checked, "validate")


@dsl.pipeline(name=NAME, pipeline_root=PIPELINE_ROOT,
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
    data_stage(locals())
