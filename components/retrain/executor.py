"""retrain's logic, free of KFP: read monitor's decision and the cooldown, start training or record why not.

A `retrain` decision starts one training run with the production version's own settings (label,
features, task, hyperparameters; `overrides` win) on `source`, unless a retrain was triggered less
than `cooldown_hours` ago (read from the registry's audit log). Targets: `local` runs the training
pipeline under kfp.local in a child process (`loopline run training`, the same compiled pipeline);
`kfp` submits a run of the uploaded training pipeline through the KFP API; `none` only records.
Every outcome is an audit event (`retrain_triggered` / `retrain_skipped`) with its reason. The new
model meets the same gates as any other: validate, evaluate against production, infra-validate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.bundle import METADATA_FILE
from components.lib.registry import PRODUCTION, Registry
from components.lib.registry_audit import RETRAIN_SKIPPED, RETRAIN_TRIGGERED
from components.train.hyperparameters import Hyperparameters

TARGETS = ("local", "kfp", "none")
RETRAIN = "retrain"  # monitor's decision that asks for training


@dataclass(frozen=True)
class RetrainResult:
    """Whether a training run was started, why, and its id (a KFP run id, or the local run's folder)."""

    triggered: bool
    reason: str
    run: str = ""


def training_arguments(registry: Registry, model: str, source: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The training pipeline's arguments: production's label, features, task, hyperparameters and intended use on
    `source`."""
    production = registry.alias(model, PRODUCTION)
    if production is None:
        raise LooplineInputError(f"model {model!r} has no production version to retrain from")
    metadata = json.loads(uri_io.read_text(uri_io.join(production.uri, METADATA_FILE)))
    parameters = metadata.get("parameters") or {}
    known = {name: parameters[name] for name in Hyperparameters.__dataclass_fields__ if name in parameters}
    return {"source": source, "registry_uri": registry.root, "model_name": model,
            "intended_use": (production.info or {}).get("intended_use") or "",
            "label_column": metadata.get("label", ""), "features": list(metadata.get("features") or []),
            "categorical_features": list(metadata.get("categorical_features") or []),
            "task": metadata.get("task", "auto"), **known, **overrides}


def _recent_trigger(registry: Registry, model: str, cooldown_hours: float, now: datetime) -> str:
    """The time of a retrain triggered within the cooldown, or ""."""
    since = now - timedelta(hours=cooldown_hours)
    for event in reversed(registry.events(model)):
        if event.event == RETRAIN_TRIGGERED and datetime.fromisoformat(event.time) >= since:
            return event.time
    return ""


def run_local(arguments: dict[str, Any], pipeline_root: str) -> str:
    """The training pipeline under kfp.local in a child process (`loopline run training`); returns its run folder."""
    from loopline.run import option_flags

    command = [sys.executable, "-m", "loopline.cli", "run", "training", "--pipeline-root", pipeline_root]
    flags = option_flags("training")
    unknown = sorted(set(arguments) - set(flags))
    if unknown:
        raise LooplineInputError(f"not training parameters: {', '.join(unknown)}")
    for name, value in arguments.items():
        flag = flags[name]
        if isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)  # KFP passes a dict parameter's numbers as floats: epochs=5 arrives as 5.0
        if value != "":
            command += [flag, str(value)]
    # A KFP step runs with _KFP_RUNTIME=true, under which kfp.dsl leaves out pipeline authoring (PipelineTask...):
    # the child defines and runs a pipeline, so it must not inherit it.
    env = {name: value for name, value in os.environ.items() if name != "_KFP_RUNTIME"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0:
        raise LooplineInputError(f"the local training run failed: {(proc.stderr or proc.stdout).strip()[-2000:]}")
    return next((line.split("run folder: ", 1)[1] for line in lines if "run folder: " in line), "")


def retrain(decision: str, reason: str, registry_uri: str, model_name: str, source: str, target: str = "local",
            cooldown_hours: float = 24.0, overrides: dict[str, Any] | None = None, pipeline_root: str = "",
            submit: Callable[[dict[str, Any]], str] | None = None, run_id: str = "",
            now: datetime | None = None, approval: str = "auto") -> RetrainResult:
    """Start training for a `retrain` decision unless the cooldown holds; record the outcome either way.

    `submit` starts a KFP run from the arguments and returns its id (target `kfp`). The training run gets
    `approval` (so a retrained version waits for a person under "manual") and `triggered_by`: this monitoring run
    and its reason, which the new version's registration keeps (its lineage leads back to the window)."""
    if target not in TARGETS:
        raise LooplineInputError(f"retrain target must be one of {', '.join(TARGETS)}, got {target!r}")
    registry = Registry(registry_uri)
    moment = now or datetime.now(timezone.utc)
    if decision != RETRAIN:
        return RetrainResult(False, f"monitor decided {decision!r}: nothing to retrain")
    recent = _recent_trigger(registry, model_name, cooldown_hours, moment)
    if recent:
        why = f"a retrain was triggered at {recent}, within the {cooldown_hours:g} h cooldown"
        registry.record(model_name, RETRAIN_SKIPPED, None, run_id, why, {"monitor": reason})
        return RetrainResult(False, why)
    if not source:
        raise LooplineInputError("retraining needs a source: the URI of the new labelled data")
    arguments = {**training_arguments(registry, model_name, source, overrides or {}), "approval": approval,
                 "triggered_by": json.dumps({"monitoring_run": run_id, "reason": reason}, sort_keys=True)}
    if target == "local":
        if not pipeline_root:
            raise LooplineInputError("retrain target 'local' needs local_pipeline_root: where the training run goes")
        run = run_local(arguments, pipeline_root)
    elif target == "kfp":
        if submit is None:
            raise LooplineInputError("retrain target 'kfp' needs a KFP connection")
        run = submit(arguments)
    else:
        run = ""
    why = f"{reason}; training {'started' if run or target == 'local' else 'recorded'} ({target})"
    registry.record(model_name, RETRAIN_TRIGGERED, None, run_id, why, {"target": target, "run": run,
                                                                        "source": source})
    return RetrainResult(True, why, run)


def kfp_submitter(host: str, namespace: str, pipeline: str, experiment: str) -> Callable[[dict[str, Any]], str]:
    """A `submit` for target `kfp`: one run of the uploaded `pipeline` with the arguments; returns the run id."""
    def submit(arguments: dict[str, Any]) -> str:
        from loopline.kfp.client import connect

        cluster = connect(host or None, namespace=namespace or None)
        name = f"{pipeline} retrain {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S}"
        return cluster.submit(pipeline, None, experiment, name, arguments).run_id

    return submit
