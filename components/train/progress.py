"""What either trainer reports: the per-epoch progress line, early stopping's bookkeeping, the fit's result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Fit:
    """Per-epoch history, the best epoch (1-based, whose weights the model holds) and the model's outputs on
    the eval split with its labels (for the monitoring baseline and the calibration)."""

    history: dict[str, list[float]]
    best_epoch: int
    eval_outputs: np.ndarray
    eval_labels: np.ndarray


def epoch_line(epoch: int, epochs: int, logs: dict[str, float], seconds: float) -> str:
    """One progress line: `train: epoch 3/20 accuracy=... loss=... (0.41 s)` (epoch 0-based here)."""
    shown = " ".join(f"{k}={v:.4f}" for k, v in sorted(logs.items()))
    return f"train: epoch {epoch + 1}/{epochs} {shown} ({seconds:.2f} s)"


class EarlyStop:
    """Keras's EarlyStopping(monitor="val_loss", restore_best_weights=True), min_delta 0: keep the best epoch's
    weights; stop once `patience` epochs in a row did not improve on it."""

    def __init__(self, patience: int) -> None:
        self.patience, self.wait, self.best = patience, 0, math.inf
        self.best_epoch, self.best_weights = 0, None

    def update(self, epoch: int, val_loss: float, weights: Any) -> bool:
        """Record an epoch's eval loss (0-based epoch); True when training should stop."""
        if self.best_weights is None:
            self.best_weights, self.best_epoch = weights, epoch
        self.wait += 1
        if val_loss < self.best:
            self.best, self.best_epoch, self.best_weights, self.wait = val_loss, epoch, weights, 0
            return False
        return self.wait >= self.patience and epoch > 0
