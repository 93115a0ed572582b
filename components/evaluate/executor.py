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

from components import keys
from components.errors import LooplineInputError
from components.evaluate.decision import Decision, decide
from components.evaluate.metrics import classification_metrics, regression_metrics
from components.evaluate.report import HEADLINE, report_markdown
from components.evaluate.slices import slice_metrics
from components.lib.arrays import feature_arrays, label_array
from components.lib.attribution import BASELINE, IG_STEPS
from components.lib.bundle import CATEGORICAL, CLASSIFICATION
from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from components.lib.registry import PRODUCTION, Registry

# Global feature importance: the mean |integrated-gradients attribution| over the first IMPORTANCE_ROWS labelled
# eval rows (a fixed, reproducible sample; its cost grows with rows, not with the eval split), IMPORTANCE_CHUNK
# rows per gradient call (the path then holds CHUNK * IG_STEPS encoded rows, a few MB).
IMPORTANCE_ROWS = 1_000
IMPORTANCE_CHUNK = 250
IMPORTANCE_METHOD = "mean absolute integrated-gradients attribution"


@dataclass(frozen=True)
class EvaluateOutputs:
    """Where evaluate writes: the evaluation folder (evaluation.json) and the Markdown report."""

    evaluation_dir: Path
    report_path: Path


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
    feature_importance: dict[str, Any] | None = None  # `feature_importance`; None for a bundle it cannot explain

    def to_json(self) -> str:
        """evaluation.json: everything above, for the register step and people."""
        return json.dumps(
            {
                "task": self.task, "classes": self.classes, "candidate": self.candidate,
                "production": self.production, "production_version": self.production_version,
                "decision": self.decision.to_dict(), "slices": self.slices, "notes": self.notes,
                "feature_importance": self.feature_importance,
            },
            indent=2,
        )

    def scalar_metrics(self) -> dict[str, float]:
        """The candidate's single-number metrics (what KFP's Metrics artifact shows)."""
        return {name: value for name, value in self.candidate.items()
                if isinstance(value, (int, float)) and not isinstance(value, bool)}

    def roc_curve(self) -> tuple[str, dict[str, list[float]]] | None:
        """The one ROC curve KFP's ClassificationMetrics draws: the positive class for a binary label,
        else the class with the lowest one-vs-rest AUC (the weakest, most worth a look)."""
        curves = {k: v for k, v in self.candidate.get("roc_curves", {}).items() if v}
        if not curves:
            return None
        if len(self.classes) == 2 and self.classes[1] in curves:
            return self.classes[1], curves[self.classes[1]]
        per_class = self.candidate["per_class"]
        name = min(curves, key=lambda c: per_class[c]["roc_auc"])
        return name, curves[name]

    def write(self, outputs: EvaluateOutputs) -> None:
        """evaluation.json into its folder and the Markdown report beside it."""
        outputs.evaluation_dir.mkdir(parents=True, exist_ok=True)
        (outputs.evaluation_dir / keys.EVALUATION_FILE).write_text(self.to_json())
        outputs.report_path.write_text(report_markdown(self))


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


def feature_importance(model: BundleModel, rows: pa.Table) -> dict[str, Any]:
    """The candidate's global feature importance: per feature, the mean |attribution| (integrated gradients, as
    the predictor's :explain) over the first IMPORTANCE_ROWS of `rows`, largest first; what each number means
    travels with it (method, steps, rows, target)."""
    used, names = rows.slice(0, IMPORTANCE_ROWS), model.spec.names  # attributions come in the spec's order
    total = np.zeros(len(names), dtype=np.float64)
    for offset in range(0, used.num_rows, IMPORTANCE_CHUNK):
        found = model.attribute_arrays(feature_arrays(used.slice(offset, IMPORTANCE_CHUNK), model.spec))
        total += np.abs(found.per_feature).sum(axis=0, dtype=np.float64)
    mean = total / max(used.num_rows, 1)
    order = sorted(range(len(names)), key=lambda i: -mean[i])  # stable: ties keep the input order
    target = "probability of the predicted class" if model.spec.task == CLASSIFICATION else "predicted value"
    return {"method": IMPORTANCE_METHOD, "steps": IG_STEPS, "rows": used.num_rows, "target": target,
            "baseline": BASELINE, "features": {names[i]: float(mean[i]) for i in order}}


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
    outputs: EvaluateOutputs | None = None,
) -> Evaluation:
    """Measure the candidate (and production) on the eval split, per slice, and decide; write
    evaluation.json and the report into `outputs` when given (the component always gives them)."""
    evaluation = _judge(candidate_dir, eval_dir, registry_uri, model_name, floors, tolerance, slice_columns, log)
    if outputs is not None:
        evaluation.write(outputs)
    return evaluation


def _judge(candidate_dir: Path, eval_dir: Path, registry_uri: str, model_name: str, floors: dict[str, float] | None,
           tolerance: float, slice_columns: Sequence[str], log: Callable[[str], None]) -> Evaluation:
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
    importance = None
    if candidate.explains:
        importance = feature_importance(candidate, scored.rows)
        top = next(iter(importance["features"]))
        log(f"evaluate: feature importance over {importance['rows']:,} rows; largest: {top} "
            f"({importance['features'][top]:.4g})")
    else:
        notes.append("no feature importance: the candidate bundle has no encode/head signatures (trained before "
                     "explanations); retrain it to get them")
    try:
        production, version, note = _production(registry_uri, model_name, table, log)
    except (LooplineInputError, KeyError, ValueError) as err:
        decision = Decision(False, f"rejected: the production model cannot be evaluated on this data ({err}); "
                            "compare by hand and promote with `loopline models promote`", [], None)
        return Evaluation(spec.task, spec.classes, metrics, decision, [], None, None, notes + [str(err)],
                          importance)
    if note:
        notes.append(note)
    decision = decide(spec.task, metrics, production, floors or {}, tolerance, version)
    log(f"evaluate: {decision.reason}")
    rows = slice_metrics(scored.rows.select(slices).to_pandas(), slices, scored.labels, scored.predictions,
                         spec.task, spec.classes)
    return Evaluation(spec.task, spec.classes, metrics, decision, rows, production, version, notes, importance)
