"""infra_validate's KFP contract: runs in the serving image, where the predictor lives."""

from typing import NamedTuple

from kfp import dsl


def infra_validate(
    model: dsl.Input[dsl.Model],
    eval: dsl.Input[dsl.Dataset],
    golden_rows: int = 16,
) -> NamedTuple("InfraDecision", [("infra_ok", bool), ("reason", str)]):
    """Start the real predictor on the candidate, send golden eval rows, compare with the model.

    In a cluster this runs in the serving image; under kfp.local it starts the predictor from
    .venv-serving (`loopline run` sets LOOPLINE_SERVING_PYTHON). A failure is a recorded decision.
    """
    from collections import namedtuple
    from pathlib import Path

    from components.infra_validate.executor import infra_validate as run_infra_validate

    result = run_infra_validate(Path(model.path), Path(eval.path), golden_rows)
    return namedtuple("InfraDecision", ["infra_ok", "reason"])(result.ok, result.reason)
