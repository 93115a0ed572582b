"""train's logic, free of KFP: feature contract, fit (fused XLA loop or Keras), export the model bundle."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import tensorflow as tf

from components.errors import LooplineInputError
from components.lib.baseline import Baseline, make_baseline, write_baseline
from components.lib.bundle import SAVED_MODEL_DIR, FeatureSpec, write_bundle_files
from components.lib.datasets import parquet_files
from components.lib.provenance import code_version, environment_hash, utc_now
from components.train.column_report import ColumnFate, column_fates, report_markdown
from components.train.encoding import encode_split
from components.train.feature_spec import build_feature_spec, load_schema
from components.train.fused import dense_stack, fit_fused
from components.train.keras_fit import fit_keras
from components.train.model import Hyperparameters, build_model, encoding_slices, export
from components.train.progress import Fit
from components.train.train_bins import train_feature_bins


@dataclass(frozen=True)
class TrainResult:
    """What training produced: the contract, per-epoch history and the bundle's folder."""

    spec: FeatureSpec
    history: dict[str, list[float]]
    best_epoch: int
    seconds: float
    rows: int
    dropped_rows: int
    bundle_dir: Path
    metadata: dict[str, Any] = field(default_factory=dict)
    columns: list[ColumnFate] = field(default_factory=list)

    def logged_metrics(self) -> dict[str, float]:
        """What KFP's Metrics artifact shows: `<name>_epoch_NNN` per epoch, then the final metrics."""
        per_epoch = {f"{name}_epoch_{epoch:03d}": value for name, values in self.history.items()
                     for epoch, value in enumerate(values, start=1)}
        return {**per_epoch, **self.metadata["metrics"]}


def train(
    train_dir: Path,
    eval_dir: Path,
    schema_path: Path,
    bundle_dir: Path,
    label: str,
    features: Sequence[str] = (),
    exclude: Sequence[str] = (),
    task: str = "auto",
    hp: Hyperparameters = Hyperparameters(),
    provenance: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
    statistics_path: Path | None = None,
    dates: Sequence[str] = (),
    categorical_features: Sequence[str] = (),
    report_path: Path | None = None,
) -> TrainResult:
    """Fit the model on train (early stopping on eval loss) and write the bundle whole, or nothing; the
    bundle carries its monitoring baseline (and the train split's TFDV statistics when given). `dates`
    (ingest's date/time columns, ISO text) are left out unless `features` names them; `categorical_features`
    are taken as categories whatever their type (integer-coded ones). What became of every column goes into
    the bundle's metadata and, given `report_path`, a Markdown data report."""
    problems = hp.problems()
    if problems:
        raise LooplineInputError("; ".join(problems))
    started = time.perf_counter()
    keras.utils.set_random_seed(hp.seed)
    tf.config.experimental.enable_op_determinism()
    train_files, eval_files = parquet_files(train_dir), parquet_files(eval_dir)
    left_out = [name for name in dates if name != label] if not features else []
    if left_out:
        log(f"train: left out the date/time columns {', '.join(left_out)} (ISO text; name them in features to use "
            "them as categories)")
    schema = load_schema(schema_path)
    spec, rules_left_out = build_feature_spec(schema, train_files, label, features, [*exclude, *left_out], task,
                                              log=log, categorical_features=categorical_features)
    columns = column_fates([f.name for f in schema.feature], spec, rules_left_out, exclude, left_out, features)
    log(f"train: {spec.task} of {label!r} from {len(spec.features)} features: {', '.join(spec.names)}")
    model = build_model(spec, hp)
    fit, rows, dropped = _fit(model, spec, hp, train_files, eval_files, log)
    history, best = fit.history, fit.best_epoch
    if dropped:
        log(f"train: dropped {dropped:,} of {rows:,} train rows with no {label!r}")
    metadata = {
        "task": spec.task,
        "label": label,
        "features": spec.names,
        "categorical_features": list(categorical_features),
        "parameters": hp.as_dict(),
        "metrics": {k: v[best - 1] for k, v in history.items()},
        "history": history,
        "best_epoch": best,
        "epochs_run": len(history["loss"]),
        "train_rows": rows - dropped,
        "encoding": [list(item) for item in encoding_slices(spec)],
        "columns": [fate.as_dict() for fate in columns],
        "environment_hash": environment_hash(),
        "code_version": code_version(),
        "time": utc_now(),
        **(provenance or {}),
    }
    baseline = _baseline(spec, train_files, fit, hp.seed)
    _write_bundle(model, spec, metadata, Path(bundle_dir),
                  lambda folder: write_baseline(folder, baseline, schema_path, statistics_path))
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(report_markdown(columns, rows - dropped))
    seconds = time.perf_counter() - started
    log(f"train: best epoch {best} of {metadata['epochs_run']}, "
        + " ".join(f"{k}={v:.4f}" for k, v in sorted(metadata["metrics"].items())) + f" ({seconds:.1f} s)")
    return TrainResult(spec, history, best, seconds, rows, dropped, Path(bundle_dir), metadata, columns)


def _fit(model: keras.Model, spec: FeatureSpec, hp: Hyperparameters, train_files: Sequence[str],
         eval_files: Sequence[str], log: Callable[[str], None]) -> tuple[Fit, int, int]:
    """Train with the chosen trainer; the fit, and the train rows read and dropped (no label)."""
    if hp.trainer == "keras":
        fit, counts = fit_keras(model, spec, hp, train_files, eval_files, log)
        return fit, counts.rows, counts.dropped
    dense_stack(model, hp)  # refuse a model the fused loop cannot take before encoding anything
    with tempfile.TemporaryDirectory(prefix="loopline-encoded-") as folder:
        train_split = encode_split(model, spec, train_files, Path(folder), "train", hp.seed, log)
        eval_split = encode_split(model, spec, eval_files, Path(folder), "eval", hp.seed, log)
        return fit_fused(model, spec, hp, train_split, eval_split, log), train_split.read, train_split.dropped


def _baseline(spec: FeatureSpec, train_files: Sequence[str], fit: Fit, seed: int) -> Baseline:
    """Frozen bins of the train split's raw features and of the model's predictions on the eval split, with the
    calibration of those predictions against the eval labels."""
    features, rows = train_feature_bins(spec, train_files, seed)
    return make_baseline(spec, features, rows, fit.eval_outputs, fit.eval_labels)


def _write_bundle(model: keras.Model, spec: FeatureSpec, metadata: dict[str, Any], bundle_dir: Path,
                  write_extra: Callable[[Path], None]) -> None:
    """Export into a temp folder beside the target, then rename: a reader never sees half a bundle."""
    staging = bundle_dir.with_name(f".{bundle_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        export(model, spec, staging / SAVED_MODEL_DIR)
        write_bundle_files(staging, spec, metadata)
        write_extra(staging)
        if bundle_dir.exists():
            shutil.rmtree(bundle_dir)
        staging.rename(bundle_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
