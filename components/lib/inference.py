"""Predictions and attributions of a model bundle in this process, for evaluate and tests (the server has its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import tensorflow as tf

from components.lib.arrays import feature_arrays
from components.lib.attribution import IG_STEPS, Attributions, integrated_gradients, output_key
from components.lib.bundle import (
    ENCODE_SIGNATURE,
    HEAD_SIGNATURE,
    SAVED_MODEL_DIR,
    SIGNATURE,
    FeatureSpec,
    read_bundle,
)


class BundleModel:
    """A loaded bundle: its contract, its serving signature and (bundles since explanations) its encode/head
    signatures, called on Arrow data or raw feature arrays."""

    def __init__(self, bundle_dir: Path) -> None:
        self.spec: FeatureSpec
        self.spec, self.metadata = read_bundle(bundle_dir)
        self._loaded = tf.saved_model.load(str(Path(bundle_dir) / SAVED_MODEL_DIR))  # owns the variables
        signatures = self._loaded.signatures
        self._serve = signatures[SIGNATURE]
        self._encode, self._head = signatures.get(ENCODE_SIGNATURE), signatures.get(HEAD_SIGNATURE)

    @property
    def explains(self) -> bool:
        """Whether the bundle can be explained: older bundles have no encode/head signatures or encoding."""
        return self._encode is not None and self._head is not None and "encoding" in self.metadata

    def predict_arrays(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Class probabilities (n, k) or values (n,) for raw feature arrays."""
        feeds = {name: tf.constant(values) for name, values in self.spec.by_tensor_name(arrays).items()}
        return self._serve(**feeds)[output_key(self.spec)].numpy()

    def attribute_arrays(self, arrays: dict[str, np.ndarray], steps: int = IG_STEPS) -> Attributions:
        """Per-row, per-feature integrated-gradients attributions for raw feature arrays (as the predictor's
        :explain gives them); the path holds rows * steps encoded rows, so callers pass bounded chunks."""
        if not self.explains:
            raise ValueError("this model bundle has no explanation signatures (encode/head); retrain it")
        return integrated_gradients(self._encode, self._head, self.spec, self.metadata["encoding"], arrays, steps)

    def predict(self, batches: Iterable[pa.RecordBatch | pa.Table]) -> np.ndarray:
        """Predictions for every row of the batches, in order."""
        parts = [self.predict_arrays(feature_arrays(b, self.spec)) for b in batches if b.num_rows]
        if not parts:
            raise ValueError("no rows to predict")
        return np.concatenate(parts)
