"""The fused trainer: the dense head trains in XLA-compiled epochs over the encoded matrix.

Per epoch and chunk, one `tf.function(jit_compile=True)` call runs a `tf.while_loop` over the
batches: gather the rows of a shuffled index, forward pass, gradient, Adam update, all in one
compiled program, so a step costs microseconds instead of Keras's per-step framework overhead.
The math is Keras's: the Keras model's own initial weights, Adam with Keras's update rule and
defaults, inverted dropout, sparse categorical cross-entropy or the label-scaled squared error,
and early stopping on eval loss with the best epoch's weights restored (as keras.callbacks
EarlyStopping(restore_best_weights=True) does).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from components.errors import LooplineInputError
from components.lib.bundle import CLASSIFICATION, FeatureSpec
from components.train.encoding import EncodedSplit
from components.train.hyperparameters import Hyperparameters
from components.train.progress import EarlyStop, Fit, epoch_line

ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON = 0.9, 0.999, 1e-7  # keras.optimizers.Adam's defaults
Params = list[tf.Tensor]  # kernel, bias of each Dense layer, input to output


def dense_stack(model: keras.Model, hp: Hyperparameters) -> list[layers.Dense]:
    """The model's Dense layers, input to output, if they are the relu stack the fused loop computes; else a
    LooplineInputError pointing at the Keras trainer."""
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    hidden_ok = all(layer.activation is keras.activations.relu for layer in dense[:-1])
    if len(dense) != hp.hidden_layers + 1 or not hidden_ok:
        raise LooplineInputError(
            f"the fused trainer takes {hp.hidden_layers} relu Dense layer(s) and an output layer after the encoding; "
            f"this model has {[layer.name for layer in dense]}: train it with trainer='keras' (--trainer keras)")
    return dense


class _Task:
    """Per-row loss and score of the head's raw output: cross-entropy and hits, or the scaled squared error and
    the squared error in the label's units (for RMSE)."""

    def __init__(self, spec: FeatureSpec) -> None:
        self.classification = spec.task == CLASSIFICATION
        self.mean, self.std = float(spec.label_mean or 0.0), float(spec.label_std or 1.0)
        self.metric = "accuracy" if self.classification else "rmse"

    def rows(self, out: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if self.classification:
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)
            return loss, tf.cast(tf.equal(tf.argmax(out, axis=1, output_type=tf.int32), y), tf.float32)
        error = y - (tf.squeeze(out, -1) * self.std + self.mean)
        return tf.square(error / self.std), tf.square(error)

    def outputs(self, out: tf.Tensor) -> tf.Tensor:
        """What the exported model returns: probabilities, or the value in the label's units."""
        return tf.nn.softmax(out) if self.classification else tf.squeeze(out, -1) * self.std + self.mean

    def metric_value(self, score_sum: float, rows: int) -> float:
        return score_sum / rows if self.classification else math.sqrt(score_sum / rows)


def _forward(params: Params, x: tf.Tensor, dropout: float = 0.0, seeds: list[tf.Tensor] | None = None) -> tf.Tensor:
    """The head's raw output (logits, or the unit before rescaling); inverted dropout after each hidden layer
    when `seeds` (one stateless seed per hidden layer) are given."""
    h = x
    for index in range(0, len(params) - 2, 2):
        h = tf.nn.relu(tf.matmul(h, params[index]) + params[index + 1])
        if seeds is not None and dropout > 0:
            keep = tf.random.stateless_uniform(tf.shape(h), seed=seeds[index // 2]) >= dropout
            h = tf.where(keep, h / (1.0 - dropout), tf.zeros_like(h))
    return tf.matmul(h, params[-2]) + params[-1]


class _Loop:
    """The compiled programs: one epoch over a chunk (all its steps), and the loss of a chunk without dropout."""

    def __init__(self, task: _Task, hp: Hyperparameters) -> None:
        self.task, self.hp = task, hp
        # No autograph: the loops are explicit tf.while_loop, and converting the code costs ~1 s a process.
        compiled = {"jit_compile": True, "autograph": False}
        self.epoch = tf.function(self._epoch, **compiled)
        self.measure = tf.function(self._measure, **compiled)
        self.outputs = tf.function(lambda params, x: task.outputs(_forward(params, x)), **compiled)

    def _epoch(self, params: Params, m: Params, v: Params, step: tf.Tensor, x: tf.Tensor, y: tf.Tensor,
               order: tf.Tensor, rows: tf.Tensor, batches: tf.Tensor) -> tuple:
        """The first `batches` steps of a pass over `order` (a permutation of a chunk's `rows` real rows, padded
        to a fixed number of whole batches, a batch per row; padding positions weigh 0). Returns the updated
        state and the pass's summed loss and score."""
        hp, size = self.hp, self.hp.batch_size
        lr = tf.constant(hp.learning_rate, tf.float32)
        hidden = len(params) // 2 - 1

        def body(i, params, m, v, step, loss_sum, score_sum):
            index = tf.gather(order, i)
            valid = tf.cast(i * size + tf.range(size) < rows, tf.float32)
            xb, yb = tf.gather(x, index), tf.gather(y, index)
            seeds = [tf.stack([tf.constant(hp.seed + layer, tf.int64), step]) for layer in range(hidden)]
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss_rows, score_rows = self.task.rows(_forward(params, xb, hp.dropout, seeds), yb)
                loss = tf.reduce_sum(loss_rows * valid) / tf.reduce_sum(valid)
            grads = tape.gradient(loss, params)
            t = tf.cast(step + 1, tf.float32)
            alpha = lr * tf.sqrt(1.0 - ADAM_BETA_2 ** t) / (1.0 - ADAM_BETA_1 ** t)
            m = [mi + (g - mi) * (1.0 - ADAM_BETA_1) for mi, g in zip(m, grads)]
            v = [vi + (tf.square(g) - vi) * (1.0 - ADAM_BETA_2) for vi, g in zip(v, grads)]
            params = [p - (mi * alpha) / (tf.sqrt(vi) + ADAM_EPSILON) for p, mi, vi in zip(params, m, v)]
            return (i + 1, params, m, v, step + 1, loss_sum + tf.reduce_sum(loss_rows * valid),
                    score_sum + tf.reduce_sum(score_rows * valid))

        zero = tf.constant(0.0, tf.float32)
        _, params, m, v, step, loss_sum, score_sum = tf.while_loop(
            lambda i, *_: i < batches, body, (tf.constant(0), params, m, v, step, zero, zero))
        return params, m, v, step, loss_sum, score_sum

    def _measure(self, params: Params, x: tf.Tensor, y: tf.Tensor, rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Summed loss and score of a chunk's first `rows` rows (the rest is padding)."""
        real = tf.cast(tf.range(tf.shape(y)[0]) < rows, tf.float32)
        loss_rows, score_rows = self.task.rows(_forward(params, x), y)
        return tf.reduce_sum(loss_rows * real), tf.reduce_sum(score_rows * real)


def _padded_order(rng: np.random.Generator, rows: int, capacity: int, batch_size: int) -> np.ndarray:
    """A permutation of a chunk's rows, padded with row 0 to the batches of `capacity` rows: (batches, size)."""
    order = np.zeros(-(-capacity // batch_size) * batch_size, np.int32)
    order[:rows] = rng.permutation(rows)
    return order.reshape(-1, batch_size)


@dataclass
class _State:
    """The head's weights and Adam's moments and step count, carried from one compiled call to the next."""

    params: Params
    m: Params
    v: Params
    step: tf.Tensor

    @classmethod
    def start(cls, dense: list[layers.Dense]) -> "_State":
        params = [tf.constant(w) for layer in dense for w in layer.get_weights()]
        return cls(params, [tf.zeros_like(p) for p in params], [tf.zeros_like(p) for p in params],
                   tf.constant(0, tf.int64))


def fit_fused(model: keras.Model, spec: FeatureSpec, hp: Hyperparameters, train: EncodedSplit, evaluation: EncodedSplit,
              log: Callable[[str], None]) -> Fit:
    """Train the model's head on the encoded splits; the best epoch's weights end up in `model`'s Dense layers."""
    dense = dense_stack(model, hp)
    task = _Task(spec)
    loop, state = _Loop(task, hp), _State.start(dense)
    stop, history = EarlyStop(hp.early_stopping_patience), {}
    for epoch in range(hp.epochs):
        started = time.perf_counter()
        rng = np.random.default_rng([hp.seed, epoch])
        loss_sum = score_sum = 0.0
        for chunk in rng.permutation(len(train.chunks)):
            x, y = train.load(int(chunk))
            rows = train.chunks[chunk]
            order = _padded_order(rng, rows, train.capacity, hp.batch_size)
            state.params, state.m, state.v, state.step, loss, score = loop.epoch(
                state.params, state.m, state.v, state.step, x, y, tf.constant(order), tf.constant(rows),
                tf.constant(-(-rows // hp.batch_size)))
            loss_sum, score_sum = loss_sum + float(loss), score_sum + float(score)
        val_loss, val_score = _measure(loop, state.params, evaluation)
        logs = {"loss": loss_sum / train.rows, task.metric: task.metric_value(score_sum, train.rows),
                "val_loss": val_loss / evaluation.rows,
                f"val_{task.metric}": task.metric_value(val_score, evaluation.rows)}
        for name, value in logs.items():
            history.setdefault(name, []).append(float(value))
        log(epoch_line(epoch, hp.epochs, logs, time.perf_counter() - started))
        if stop.update(epoch, logs["val_loss"], state.params):
            break
    best = stop.best_weights if stop.best_weights is not None else state.params
    weights = iter(np.asarray(p) for p in best)
    for layer in dense:
        layer.set_weights([next(weights), next(weights)])
    outputs = np.concatenate([np.asarray(loop.outputs(best, evaluation.load(i)[0]))[:rows]
                              for i, rows in enumerate(evaluation.chunks)])
    return Fit(history, stop.best_epoch + 1, outputs, evaluation.labels())


def _measure(loop: _Loop, params: Params, split: EncodedSplit) -> tuple[float, float]:
    """Summed loss and score over every chunk of a split, without dropout."""
    sums = [loop.measure(params, *split.load(i), tf.constant(rows)) for i, rows in enumerate(split.chunks)]
    return sum(float(loss) for loss, _ in sums), sum(float(score) for _, score in sums)
