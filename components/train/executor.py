"""train's logic, free of KFP: feature contract, tf.data input, fit, export the model bundle."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tensorflow as tf

from components.lib.arrays import feature_arrays
from components.lib.baseline import Baseline, make_baseline, write_baseline
from components.lib.bundle import SAVED_MODEL_DIR, FeatureSpec, write_bundle_files
from components.lib.datasets import parquet_files
from components.lib.provenance import code_version, environment_hash, utc_now
from components.train.data import make_dataset
from components.train.feature_spec import build_feature_spec, load_schema
from components.train.model import Hyperparameters, build_model, compile_model, encoding_slices, export

STEPS_PER_EXECUTION = 32
EVAL_BATCH = 1024


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

    def logged_metrics(self) -> dict[str, float]:
        """What KFP's Metrics artifact shows: `<name>_epoch_NNN` per epoch, then the final metrics."""
        per_epoch = {f"{name}_epoch_{epoch:03d}": value for name, values in self.history.items()
                     for epoch, value in enumerate(values, start=1)}
        return {**per_epoch, **self.metadata["metrics"]}


class _EpochLog(keras.callbacks.Callback):
    """One progress line per epoch, with the time it took."""

    def __init__(self, epochs: int, log: Callable[[str], None]) -> None:
        super().__init__()
        self.epochs, self.log, self.started = epochs, log, 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        shown = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
        self.log(f"train: epoch {epoch + 1}/{self.epochs} {shown} ({time.perf_counter() - self.started:.2f} s)")


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
) -> TrainResult:
    """Fit the model on train (early stopping on eval loss) and write the bundle whole, or nothing; the
    bundle carries its monitoring baseline (and the train split's TFDV statistics when given)."""
    started = time.perf_counter()
    keras.utils.set_random_seed(hp.seed)
    tf.config.experimental.enable_op_determinism()
    train_files, eval_files = parquet_files(train_dir), parquet_files(eval_dir)
    spec = build_feature_spec(load_schema(schema_path), train_files, label, features, exclude, task)
    log(f"train: {spec.task} of {label!r} from {len(spec.features)} features: {', '.join(spec.names)}")
    train_data, counts = make_dataset(train_files, spec, hp.batch_size, shuffle=True, seed=hp.seed)
    # Validation batches may be large: they only measure, so the training math is unchanged.
    eval_data, _ = make_dataset(eval_files, spec, max(hp.batch_size, EVAL_BATCH), shuffle=False, seed=hp.seed)
    model = build_model(spec, hp)
    compile_model(model, spec, hp, STEPS_PER_EXECUTION)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=hp.early_stopping_patience,
                                            restore_best_weights=True)
    fit = model.fit(train_data, validation_data=eval_data, epochs=hp.epochs, verbose=0, shuffle=False,
                    callbacks=[stopper, _EpochLog(hp.epochs, log)])
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    best = int(min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)) + 1
    if counts.dropped:
        log(f"train: dropped {counts.dropped:,} of {counts.rows:,} train rows with no {label!r}")
    metadata = {
        "task": spec.task,
        "label": label,
        "features": spec.names,
        "parameters": hp.as_dict(),
        "metrics": {k: v[best - 1] for k, v in history.items()},
        "history": history,
        "best_epoch": best,
        "epochs_run": len(history["loss"]),
        "train_rows": counts.rows - counts.dropped,
        "encoding": [list(item) for item in encoding_slices(spec)],
        "environment_hash": environment_hash(),
        "code_version": code_version(),
        "time": utc_now(),
        **(provenance or {}),
    }
    baseline = _baseline(model, spec, train_files, eval_data)
    _write_bundle(model, spec, metadata, Path(bundle_dir),
                  lambda folder: write_baseline(folder, baseline, schema_path, statistics_path))
    seconds = time.perf_counter() - started
    log(f"train: best epoch {best} of {metadata['epochs_run']}, "
        + " ".join(f"{k}={v:.4f}" for k, v in sorted(metadata["metrics"].items())) + f" ({seconds:.1f} s)")
    return TrainResult(spec, history, best, seconds, counts.rows, counts.dropped, Path(bundle_dir), metadata)


def _baseline(model: keras.Model, spec: FeatureSpec, train_files: Sequence[str], eval_data: tf.data.Dataset
              ) -> Baseline:
    """Frozen bins of the train split's raw features and of the model's predictions on the eval split, with the
    calibration of those predictions against the eval labels."""
    table = pa.concat_tables([pq.read_table(path, columns=spec.names) for path in train_files])
    scored = [(model.predict_on_batch(features), np.asarray(labels)) for features, labels in eval_data]  # one pass
    return make_baseline(spec, feature_arrays(table, spec), np.concatenate([p for p, _ in scored]),
                         np.concatenate([y for _, y in scored]))


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
