"""The Keras trainer (`trainer="keras"`): `model.fit` over tf.data batches of raw features.

The fallback for a model the fused trainer cannot take (components/train/fused.py); it reads the
Parquet files a chunk at a time (components/train/data.py), so it too trains larger than memory.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import keras
import numpy as np

from components.lib.bundle import FeatureSpec
from components.train.data import Counts, make_dataset
from components.train.hyperparameters import Hyperparameters
from components.train.model import compile_model
from components.train.progress import Fit, epoch_line

STEPS_PER_EXECUTION = 32
EVAL_BATCH = 1024


class _EpochLog(keras.callbacks.Callback):
    """One progress line per epoch, with the time it took."""

    def __init__(self, epochs: int, log: Callable[[str], None]) -> None:
        super().__init__()
        self.epochs, self.log, self.started = epochs, log, 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.log(epoch_line(epoch, self.epochs, logs or {}, time.perf_counter() - self.started))


def fit_keras(model: keras.Model, spec: FeatureSpec, hp: Hyperparameters, train_files: Sequence[str],
              eval_files: Sequence[str], log: Callable[[str], None]) -> tuple[Fit, Counts]:
    """Fit with early stopping on eval loss (best weights restored); the train rows' counts come back too."""
    train_data, counts = make_dataset(train_files, spec, hp.batch_size, shuffle=True, seed=hp.seed)
    # Validation batches may be large: they only measure, so the training math is unchanged.
    eval_data, _ = make_dataset(eval_files, spec, max(hp.batch_size, EVAL_BATCH), shuffle=False, seed=hp.seed)
    compile_model(model, spec, hp, STEPS_PER_EXECUTION)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=hp.early_stopping_patience,
                                            restore_best_weights=True)
    fit = model.fit(train_data, validation_data=eval_data, epochs=hp.epochs, verbose=0, shuffle=False,
                    callbacks=[stopper, _EpochLog(hp.epochs, log)])
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    scored = [(model.predict_on_batch(features), np.asarray(labels)) for features, labels in eval_data]  # one pass
    return Fit(history, stopper.best_epoch + 1, np.concatenate([p for p, _ in scored]),
               np.concatenate([y for _, y in scored])), counts
