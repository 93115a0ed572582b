"""register's KFP contract: the model bundle and its evaluation in, the registry version out."""

from typing import NamedTuple

from kfp import dsl


def register(
    model: dsl.Input[dsl.Model],
    evaluation: dsl.Input[dsl.Artifact],
    registry_uri: str,
    model_name: str,
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> NamedTuple("Registered", [("version", int), ("uri", str)]):
    """Record the candidate as a new immutable version with its evaluation and the gate's decision.

    Every candidate is kept, approved or not; promotion to production is the deploy step's job
    (or `loopline models promote`).
    """
    from collections import namedtuple
    from pathlib import Path

    from components.register.executor import register as run_register

    version = run_register(Path(model.path), Path(evaluation.path), registry_uri, model_name, run_id)
    return namedtuple("Registered", ["version", "uri"])(version.number, version.uri)
