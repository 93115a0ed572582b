"""Predictions of a model bundle in this process, for evaluate and tests (the server has its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import tensorflow as tf

from components.lib.arrays import feature_arrays
from components.lib.bundle import CLASSIFICATION, SAVED_MODEL_DIR, SIGNATURE, FeatureSpec, read_bundle


class BundleModel:
    """A loaded bundle: its contract and its serving signature, called on Arrow data."""

    def __init__(self, bundle_dir: Path) -> None:
        self.spec: FeatureSpec
        self.spec, self.metadata = read_bundle(bundle_dir)
        self._loaded = tf.saved_model.load(str(Path(bundle_dir) / SAVED_MODEL_DIR))  # owns the variables
        self._serve = self._loaded.signatures[SIGNATURE]

    def predict_arrays(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Class probabilities (n, k) or values (n,) for raw feature arrays."""
        feeds = {name: tf.constant(values) for name, values in self.spec.by_tensor_name(arrays).items()}
        outputs = self._serve(**feeds)
        key = "probabilities" if self.spec.task == CLASSIFICATION else "value"
        return outputs[key].numpy()

    def predict(self, batches: Iterable[pa.RecordBatch | pa.Table]) -> np.ndarray:
        """Predictions for every row of the batches, in order."""
        parts = [self.predict_arrays(feature_arrays(b, self.spec)) for b in batches if b.num_rows]
        if not parts:
            raise ValueError("no rows to predict")
        return np.concatenate(parts)
