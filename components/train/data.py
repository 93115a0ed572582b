"""tf.data input read from Parquet a chunk at a time, so data larger than memory trains.

Missing values (documented in components/README.md): a missing number is NaN (the model imputes
the train mean and sees a missing-indicator), a missing category is "" (the model's lookup sends
it to the out-of-vocabulary bucket); rows with a missing label are dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tensorflow as tf

from components.errors import LooplineInputError
from components.lib.arrays import feature_arrays, label_array
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, FeatureSpec

CHUNK_ROWS = 16_384


@dataclass
class Counts:
    """Rows read and rows dropped for a missing label, over the last full pass."""

    rows: int = 0
    dropped: int = 0


def labelled_rows(files: Sequence[str], label: str) -> int:
    """Rows that have a label, reading only that column: the epoch length Keras is told up front."""
    return sum(len(f) - f.null_count for path in files for f in pq.read_table(path, columns=[label]).columns)


def labelled(batch: pa.RecordBatch, spec: FeatureSpec, counts: Counts
             ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """A batch's raw features (by column name), its labels and the indices of the rows that have one; the batch's
    rows and unlabelled rows are added to `counts`. Both trainers read their input through this."""
    labels, present = label_array(batch, spec)
    counts.rows += batch.num_rows
    counts.dropped += int((~present).sum())
    return feature_arrays(batch, spec), labels, np.flatnonzero(present)


def _chunks(files: Sequence[str], spec: FeatureSpec, shuffle: bool, rng: np.random.Generator, counts: Counts
            ) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    columns = [*spec.names, spec.label]
    groups = [(f, g) for f in files for g in range(pq.ParquetFile(f).num_row_groups)]
    if shuffle:
        groups = [groups[i] for i in rng.permutation(len(groups))]
    counts.rows = counts.dropped = 0
    for path, group in groups:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS, row_groups=[group], columns=columns):
            features, labels, order = labelled(batch, spec, counts)
            if shuffle:
                order = rng.permutation(order)
            tensors = spec.by_tensor_name(features)
            features = {name: values[order] for name, values in tensors.items()}
            yield features, labels[order]


def make_dataset(files: Sequence[str], spec: FeatureSpec, batch_size: int, shuffle: bool, seed: int
                 ) -> tuple[tf.data.Dataset, Counts]:
    """Batches of (features by tensor name, label); reshuffled every epoch (seeded) when `shuffle`."""
    counts = Counts()
    epoch = [0]

    def generate() -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        rng = np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        yield from _chunks(files, spec, shuffle, rng, counts)

    signature = (
        {f.tensor_name: tf.TensorSpec((None,), tf.string if f.kind == CATEGORICAL else tf.float32)
         for f in spec.features},
        tf.TensorSpec((None,), tf.int32 if spec.task == CLASSIFICATION else tf.float32),
    )
    batches = -(-labelled_rows(files, spec.label) // batch_size)
    if batches == 0:
        raise LooplineInputError(f"no rows with a {spec.label!r} label in {list(files)}")
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature).rebatch(batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(tf.data.AUTOTUNE), counts
