"""The Keras model, preprocessing inside: serving feeds raw feature values, so there is no skew.

Numbers: NaN -> the train mean, then (x - mean) / std, plus a 0/1 missing indicator. Categories:
a StringLookup over the vocabulary with one out-of-vocabulary bucket (where "" = missing goes),
one-hot. Then `layers` Dense layers of `hidden_units` with dropout, and a softmax (classification)
or one linear unit rescaled to the label's units (regression).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf
from keras import layers, ops

from components.lib.bundle import (
    CATEGORICAL,
    CLASSIFICATION,
    ENCODE_SIGNATURE,
    ENCODED,
    HEAD_SIGNATURE,
    SIGNATURE,
    FeatureSpec,
)
from components.train.hyperparameters import Hyperparameters

FEATURES = "features"



def _numeric(x: keras.KerasTensor, mean: float, std: float) -> list[keras.KerasTensor]:
    missing = ops.isnan(x)
    filled = ops.where(missing, mean, x)
    scaled = (filled - mean) / (std if std and std > 0 else 1.0)
    return [ops.expand_dims(scaled, -1), ops.expand_dims(ops.cast(missing, "float32"), -1)]


def build_model(spec: FeatureSpec, hp: Hyperparameters) -> keras.Model:
    """A functional model over a dict of raw inputs keyed by tensor name, one (batch,) tensor per feature."""
    inputs, parts = {}, []
    for feature in spec.features:
        name = feature.tensor_name  # a safe identifier: Keras refuses `/`, spaces and more in layer names
        if feature.kind == CATEGORICAL:
            inputs[name] = keras.Input(shape=(), dtype="string", name=name)
            vocabulary = [v for v in feature.vocabulary if v != ""]
            lookup = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, output_mode="one_hot",
                                         name=f"lookup_{name}")
            parts.append(lookup(inputs[name]))
        else:
            inputs[name] = keras.Input(shape=(), dtype="float32", name=name)
            parts.extend(_numeric(inputs[name], feature.mean or 0.0, feature.std or 1.0))
    x = layers.Concatenate(name=FEATURES)(parts) if len(parts) > 1 else layers.Identity(name=FEATURES)(parts[0])
    for index in range(hp.hidden_layers):
        x = layers.Dense(hp.hidden_units, activation="relu", name=f"dense_{index}")(x)
        if hp.dropout > 0:
            x = layers.Dropout(hp.dropout, seed=hp.seed + index)(x)
    if spec.task == CLASSIFICATION:
        output = layers.Dense(len(spec.classes), activation="softmax", name="probabilities")(x)
    else:
        unit = ops.squeeze(layers.Dense(1, name="value")(x), -1)
        output = unit * (spec.label_std or 1.0) + (spec.label_mean or 0.0)
    return keras.Model(inputs=inputs, outputs=output, name="loopline")


def encoding_slices(spec: FeatureSpec) -> list[tuple[str, int, int]]:
    """Where each feature sits in the encoded vector: numbers take 2 columns (value, missing),
    categories their vocabulary plus the out-of-vocabulary bucket (as built above)."""
    slices, start = [], 0
    for feature in spec.features:
        width = len([v for v in feature.vocabulary if v != ""]) + 1 if feature.kind == CATEGORICAL else 2
        slices.append((feature.name, start, start + width))
        start += width
    return slices


def _head(model: keras.Model, spec: FeatureSpec) -> keras.Model:
    """The part after the encoding, rebuilt on its own input from the trained layers (no dropout)."""
    width = encoding_slices(spec)[-1][2]
    encoded = keras.Input(shape=(width,), dtype="float32", name=ENCODED)
    x = encoded
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            x = layer(x)
    if spec.task != CLASSIFICATION:
        x = ops.squeeze(x, -1) * (spec.label_std or 1.0) + (spec.label_mean or 0.0)
    return keras.Model(encoded, x, name="head")


def compile_model(model: keras.Model, spec: FeatureSpec, hp: Hyperparameters, steps_per_execution: int) -> None:
    """Loss and metrics for the task; regression is fit on the label scaled to unit variance."""
    optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate)
    if spec.task == CLASSIFICATION:
        model.compile(optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      steps_per_execution=steps_per_execution)
    else:
        scale = float(spec.label_std or 1.0)

        def scaled_mse(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
            return ops.mean(ops.square((y_true - y_pred) / scale))

        model.compile(optimizer, loss=scaled_mse, metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
                      steps_per_execution=steps_per_execution)


def encoder(model: keras.Model) -> keras.Model:
    """The model's preprocessing alone: raw features -> the encoded vector its dense layers see."""
    return keras.Model(model.inputs, model.get_layer(FEATURES).output, name="encoder")


def raw_signature(spec: FeatureSpec) -> dict[str, tf.TensorSpec]:
    """The raw inputs by tensor name: one (batch,) tensor per feature, string for categories, float32 for numbers."""
    return {f.tensor_name: tf.TensorSpec((None,), tf.string if f.kind == CATEGORICAL else tf.float32,
                                         name=f.tensor_name) for f in spec.features}


def export(model: keras.Model, spec: FeatureSpec, path: Path) -> None:
    """A SavedModel whose `serving_default` takes one (batch,) tensor per raw feature and returns
    {"probabilities": (batch, classes)} or {"value": (batch,)}."""
    archive = keras.export.ExportArchive()
    signature = raw_signature(spec)
    key = "probabilities" if spec.task == CLASSIFICATION else "value"
    # For explanations (integrated gradients through the encoding): raw -> encoded, encoded -> output.
    encode_model, head = encoder(model), _head(model, spec)
    width = encoding_slices(spec)[-1][2]
    endpoints = {
        SIGNATURE: (lambda features: {key: model(features, training=False)}, signature),
        ENCODE_SIGNATURE: (lambda features: {ENCODED: encode_model(features, training=False)}, signature),
        HEAD_SIGNATURE: (lambda encoded: {key: head(encoded, training=False)},
                         tf.TensorSpec((None, width), tf.float32, name=ENCODED)),
    }
    for tracked in (model, encode_model, head):
        archive.track(tracked)
    for name, (fn, spec_in) in endpoints.items():
        # Traced without autograph: the models hold no tensor-dependent Python control flow, and the
        # conversion alone took ~1 s of the train step.
        archive.add_endpoint(name=name, fn=tf.function(fn, input_signature=[spec_in], autograph=False))
    archive.write_out(str(path), verbose=False)
