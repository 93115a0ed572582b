"""evaluate's logic, free of KFP: the candidate and the production model on the same eval rows, the gate."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from components.lib.bundle import CATEGORICAL, CLASSIFICATION
from components.errors import LooplineInputError
from components.evaluate.decision import Decision, decide
from components.evaluate.metrics import classification_metrics, regression_metrics
from components.evaluate.slices import slice_metrics, slices_markdown
from components.lib.inference import BundleModel
from components.lib.registry import Registry
from components.train.data import label_array
from components.lib.datasets import parquet_files

PRODUCTION = "production"
HEADLINE = {CLASSIFICATION: ("accuracy", "macro_f1", "macro_roc_auc", "log_loss"), "regression": ("rmse", "mae", "r2")}


@dataclass(frozen=True)
class Evaluation:
    """The candidate's metrics, production's (if any) on the same rows, slices and the decision."""

    task: str
    classes: list[str]
    candidate: dict[str, Any]
    decision: Decision
    slices: list[dict[str, Any]]
    production: dict[str, Any] | None = None
    production_version: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """evaluation.json: everything above, for the register step and people."""
        return json.dumps(
            {
                "task": self.task, "classes": self.classes, "candidate": self.candidate,
                "production": self.production, "production_version": self.production_version,
                "decision": self.decision.to_dict(), "slices": self.slices, "notes": self.notes,
            },
            indent=2,
        )


@dataclass(frozen=True)
class _Scored:
    """A model's predictions on the labelled rows of the eval table, and their metrics."""

    rows: pa.Table
    labels: np.ndarray
    predictions: np.ndarray
    metrics: dict[str, Any]


def _score(model: BundleModel, table: pa.Table) -> _Scored:
    """Predict the labelled rows of `table` once and measure them."""
    labels, present = label_array(table, model.spec)
    rows = table.filter(pa.array(present))
    if rows.num_rows == 0:
        raise LooplineInputError(f"the eval split has no rows with a {model.spec.label!r} label")
    predictions = model.predict([rows])
    if model.spec.task == CLASSIFICATION:
        metrics = classification_metrics(labels[present], predictions, model.spec.classes)
    else:
        metrics = regression_metrics(labels[present], predictions)
    return _Scored(rows, labels[present], predictions, metrics)


def _production(registry_uri: str, model_name: str, table: pa.Table, log: Callable[[str], None]
                ) -> tuple[dict[str, Any] | None, int | None, str]:
    """Production's metrics on the same rows, its version, or a note saying why there are none."""
    if not registry_uri:
        return None, None, "no registry given: evaluated as a first model"
    registry = Registry(registry_uri)
    version = registry.alias(model_name, PRODUCTION)
    if version is None:
        return None, None, f"no production version of {model_name!r} in {registry_uri}: first model"
    with tempfile.TemporaryDirectory(prefix="loopline-production-") as tmp:
        local = registry.download(model_name, version.number, Path(tmp) / "bundle")
        log(f"evaluate: comparing with production v{version.number} of {model_name!r}")
        return _score(BundleModel(local), table).metrics, version.number, ""


def evaluate(
    candidate_dir: Path,
    eval_dir: Path,
    registry_uri: str = "",
    model_name: str = "",
    floors: dict[str, float] | None = None,
    tolerance: float = 0.01,
    slice_columns: Sequence[str] = (),
    log: Callable[[str], None] = print,
) -> Evaluation:
    """Measure the candidate (and production) on the eval split, per slice, and decide."""
    candidate = BundleModel(candidate_dir)
    spec = candidate.spec
    slices = list(slice_columns) or [f.name for f in spec.features if f.kind == CATEGORICAL]
    # Every column: the production model may use features the candidate does not.
    table = pa.concat_tables([pq.read_table(p) for p in parquet_files(eval_dir)])
    missing = [c for c in slices if c not in table.column_names]
    if missing:
        raise LooplineInputError(f"slice columns {missing} are not in the eval data; columns: {table.column_names}")
    scored = _score(candidate, table)
    metrics = scored.metrics
    log(f"evaluate: candidate on {metrics['count']:,} eval rows: "
        + ", ".join(f"{k}={metrics[k]:.4f}" for k in HEADLINE[spec.task] if metrics.get(k) is not None))
    notes: list[str] = []
    try:
        production, version, note = _production(registry_uri, model_name, table, log)
    except (LooplineInputError, KeyError, ValueError) as err:
        decision = Decision(False, f"rejected: the production model cannot be evaluated on this data ({err}); "
                            "compare by hand and promote with `loopline models promote`", [], None)
        return Evaluation(spec.task, spec.classes, metrics, decision, [], None, None, [str(err)])
    if note:
        notes.append(note)
    decision = decide(spec.task, metrics, production, floors or {}, tolerance, version)
    log(f"evaluate: {decision.reason}")
    rows = slice_metrics(scored.rows.select(slices).to_pandas(), slices, scored.labels, scored.predictions,
                         spec.task, spec.classes)
    return Evaluation(spec.task, spec.classes, metrics, decision, rows, production, version, notes)


def roc_for_kfp(evaluation: Evaluation) -> tuple[str, dict[str, list[float]]] | None:
    """The one ROC curve KFP's ClassificationMetrics draws: the positive class for a binary label,
    else the class with the lowest one-vs-rest AUC (the weakest, most worth a look)."""
    curves = {k: v for k, v in evaluation.candidate.get("roc_curves", {}).items() if v}
    if not curves:
        return None
    if len(evaluation.classes) == 2 and evaluation.classes[1] in curves:
        return evaluation.classes[1], curves[evaluation.classes[1]]
    per_class = evaluation.candidate["per_class"]
    name = min(curves, key=lambda c: per_class[c]["roc_auc"])
    return name, curves[name]


def report_markdown(evaluation: Evaluation) -> str:
    """The evaluate report: decision, candidate vs production, then metrics per slice."""
    verdict = "**Approved**" if evaluation.decision.approved else "**Not approved**"
    baseline = f"production v{evaluation.production_version}" if evaluation.production_version else "production"
    lines = ["# Evaluation", "", f"{verdict}: {evaluation.decision.reason}", ""]
    lines += [f"| metric | candidate | {baseline} |", "| --- | ---: | ---: |"]
    for name in HEADLINE[evaluation.task]:
        theirs = (evaluation.production or {}).get(name)
        lines.append(f"| {name} | {_num(evaluation.candidate.get(name))} | {_num(theirs)} |")
    lines += [""] + [f"- {note}" for note in evaluation.notes + evaluation.candidate.get("notes", [])]
    if evaluation.slices:
        lines += ["", slices_markdown(evaluation.slices, evaluation.task, "Metrics per slice")]
    return "\n".join(lines) + "\n"


def _num(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.4g}"
