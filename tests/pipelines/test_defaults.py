"""Every default is decided once: the pipeline, the component, the `loopline run` option and the dataclass agree.

KFP needs literal defaults in each signature (a component's source is compiled into the YAML), so
the values are written in several places; this test is what keeps them one decision.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import pytest

from components.catalog import CONTRACTS
from components.monitor.performance import PerformanceSettings
from components.train.hyperparameters import Hyperparameters
from components.validate.thresholds import Thresholds
from loopline import cli
from loopline.run import pipeline_arguments
from pipelines import PIPELINES, create
from pipelines.settings import CompileSettings

# Pipeline parameters that reach a component under another name.
RENAMED = {"deploy_target": "target", "kserve_namespace": "namespace", "retrain_target": "target"}
# `loopline run` chooses these for a laptop on purpose: local folders under out/ (the pipelines have
# no default for a source, registry or prediction log, and "" for the model repository and the local
# retraining root), given as absolute paths.
LOCAL_CHOICES = {"source", "registry_uri", "model_repository", "prediction_log_uri", "local_pipeline_root"}
# The training and monitoring pipelines require a model name (no data set's name is a safe default);
# `loopline run` derives one when --model-name is not given: from the source (training), the registry's
# only model (monitoring) (loopline/preflight.py).
DERIVED = {"model_name"}
# A component default that is neutral on purpose: evaluate alone compares with nothing (no registry,
# no model name); in a pipeline both always come from the pipeline's parameters.
NEUTRAL = {("evaluate", "model_name")}


def _defaults(func: Callable) -> dict[str, Any]:
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.fixture(scope="module")
def pipeline_defaults() -> dict[str, dict[str, Any]]:
    return {name: _defaults(create(name, CompileSettings()).pipeline_func) for name in PIPELINES}


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_components_default_like_the_pipeline(pipeline: str, pipeline_defaults: dict[str, dict[str, Any]]) -> None:
    defaults = pipeline_defaults[pipeline]
    checked = 0
    for contract, _ in CONTRACTS.values():
        theirs = _defaults(contract)
        for name, value in defaults.items():
            own = RENAMED.get(name, name)
            if own in theirs and (contract.__name__, own) not in NEUTRAL:
                assert theirs[own] == value, f"{contract.__name__}({own}={theirs[own]!r}) vs {pipeline}({value!r})"
                checked += 1
    assert checked >= (30 if pipeline == "training" else 10)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_loopline_run_defaults_like_the_pipeline(pipeline: str, pipeline_defaults: dict[str, dict[str, Any]]) -> None:
    args = cli.build_parser().parse_args(["run", pipeline])
    given = pipeline_arguments(args)
    defaults = pipeline_defaults[pipeline]
    derived = DERIVED if pipeline in ("training", "monitoring") else set()
    assert set(given) - LOCAL_CHOICES - derived <= set(defaults), "every option maps to a pipeline parameter"
    assert set(defaults) - set(given) == set(), "every defaulted pipeline parameter has an option"
    for name in set(given) - LOCAL_CHOICES - derived:
        assert given[name] == defaults[name], f"--{name}: {given[name]!r} vs pipeline {defaults[name]!r}"


@pytest.mark.parametrize(("dataclass", "contract"), [(Hyperparameters, "train"), (Thresholds, "validate"),
                                                     (PerformanceSettings, "monitor")])
def test_dataclass_fields_are_the_component_parameters(dataclass: type, contract: str) -> None:
    """Same names, same defaults: built by keyword, a reordered field cannot swap two values."""
    theirs = _defaults(CONTRACTS[contract][0])
    fields = {f.name: f.default for f in dataclasses.fields(dataclass)}
    assert fields == {name: theirs[name] for name in fields}
    with pytest.raises(TypeError):
        dataclass(*fields.values())  # keyword only
