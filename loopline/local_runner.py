"""Run a pipeline on this machine with kfp.local: the same compiled components, no cluster.

Each step runs as a subprocess of this interpreter (SubprocessRunner(use_venv=False)), so the
pipeline environment (.venv) must hold every component's dependencies, as the image does. The
terminal shows one line per step (loopline/step_log.py); kfp.local's full log goes to `run.log` in
the run folder (`verbose` streams it as well).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kfp import local

from components import keys
from components.lib.serving import SERVING_PYTHON_ENV
from loopline import paths
from loopline.step_log import StepLog, strip_ansi
from pipelines import create
from pipelines.settings import CompileSettings

LOG_FILE = "run.log"
# Artifacts a run leaves for people to open, by artifact name, and the end of their copy's name.
REPORT_SUFFIXES = {keys.REPORT_HTML: "-report.html", keys.REPORT_MARKDOWN: "-report.md",
                   keys.INFERENCE_SERVICE: "-inferenceservice.yaml", keys.MODEL_CARD_HTML: "-model-card.html",
                   keys.MODEL_CARD_MARKDOWN: "-model-card.md"}


@dataclass(frozen=True)
class LocalRun:
    """The outcome of one local run: its folder, whether it succeeded, and the files to open."""

    name: str
    run_dir: Path | None
    succeeded: bool
    error: str
    seconds: float
    reports: dict[str, Path] = field(default_factory=dict)
    decision: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    registered: dict[str, Any] = field(default_factory=dict)
    deployment: dict[str, Any] = field(default_factory=dict)
    log: Path | None = None


def _new_run_dir(pipeline_root: Path, before: set[Path]) -> Path | None:
    created = [p for p in pipeline_root.iterdir() if p.is_dir() and p not in before]
    return max(created, key=lambda p: p.stat().st_mtime) if created else None


def _copy_reports(run_dir: Path) -> dict[str, Path]:
    """The run's reports (and deploy's InferenceService, register's model card), copied to
    `<task>-report.html|.md` (and `deploy-inferenceservice.yaml`, `register-model-card.html|.md`) in the
    run folder so a browser or editor opens them (KFP names artifact files without a suffix)."""
    reports = {}
    for artifact in sorted(run_dir.rglob("*")):
        suffix = REPORT_SUFFIXES.get(artifact.name)
        if suffix and artifact.is_file():
            copy = run_dir / f"{artifact.parent.name}{suffix}"
            shutil.copyfile(artifact, copy)
            reports[copy.name] = copy
    return reports


def _json(run_dir: Path, pattern: str) -> dict[str, Any]:
    """The newest JSON file of that name under the run folder, or {}."""
    found = sorted(run_dir.rglob(pattern))
    return json.loads(found[-1].read_text()) if found else {}


def _collect(run: LocalRun) -> LocalRun:
    """Add what the run's tasks left: reports, the data decision, the evaluation, the registered version."""
    if run.run_dir is None:
        return run
    outputs = {task: _json(run.run_dir / task, "executor_output.json").get("parameterValues", {})
               for task in ("register", "deploy")}
    return replace(run, reports=_copy_reports(run.run_dir), decision=_json(run.run_dir, keys.DECISION_FILE),
                   evaluation=_json(run.run_dir, keys.EVALUATION_FILE), registered=outputs["register"],
                   deployment=outputs["deploy"])


def run_locally(name: str, arguments: dict[str, Any], pipeline_root: Path, verbose: bool = False) -> LocalRun:
    """Run the named pipeline under kfp.local; a failing step is reported, not raised."""
    pipeline_root = pipeline_root.resolve()
    pipeline_root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if paths.SERVING_PYTHON.exists():  # the infra-validate step starts the predictor from the serving env
        os.environ.setdefault(SERVING_PYTHON_ENV, str(paths.SERVING_PYTHON))
    # Our base image is not named "python", so kfp.local warns that the task may need a container;
    # here that is intended: the .venv is the image's environment (same lock file).
    warnings.filterwarnings("ignore", message=".*custom or non-Python base image.*")
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root))
    before = {p for p in pipeline_root.iterdir() if p.is_dir()}
    start = time.perf_counter()
    error = ""
    log_path = pipeline_root / f".{name}-{os.getpid()}-{LOG_FILE}"
    with log_path.open("w") as log:
        steps = StepLog(log, sys.stdout, verbose, lambda: _new_run_dir(pipeline_root, before))
        with contextlib.redirect_stdout(steps):
            try:
                create(name, CompileSettings())(**arguments)  # kfp.local ignores the cluster settings
            except RuntimeError as err:
                error = strip_ansi(str(err))
    run_dir = _new_run_dir(pipeline_root, before)
    kept = log_path.replace(run_dir / LOG_FILE) if run_dir else log_path
    return _collect(LocalRun(name, run_dir, not error, error, time.perf_counter() - start, log=kept))
