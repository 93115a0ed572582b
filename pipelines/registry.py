"""The pipelines loopline ships, by the name the `loopline` command and `make compile` use."""

from typing import Callable

from pipelines.data_validation import data_validation_pipeline
from pipelines.training import training_pipeline

PIPELINES: dict[str, Callable] = {
    "data-validation": data_validation_pipeline,
    "training": training_pipeline,
}
