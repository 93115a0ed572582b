"""The splits encoded once: raw features through the model's own encoder into float32 matrices.

The fused trainer's input. Rows are read from Parquet and encoded in large batches, and written
as chunks of at most `chunk_rows` rows (a whole number of batches) to .npy files, which training
memory-maps one chunk at a time: data larger than memory trains in bounded memory. Rows with a
missing label are dropped and counted, as the Keras input does (components/train/data.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import keras
import numpy as np
import pyarrow.parquet as pq
import tensorflow as tf

from components.errors import LooplineInputError
from components.lib.arrays import feature_arrays, label_array
from components.lib.bundle import CLASSIFICATION, FeatureSpec
from components.train.model import encoder, raw_signature

CHUNK_ROWS = 1 << 20  # rows per chunk (rounded down to whole batches): ~60 MB of encoding for 15 columns
READ_ROWS = 1 << 16  # rows per Parquet read and encoder call


@dataclass
class EncodedSplit:
    """A split's encoded chunks in `folder`: `chunks` rows each; `read` rows read, `dropped` of them unlabelled."""

    folder: Path
    name: str
    chunks: list[int] = field(default_factory=list)
    read: int = 0
    dropped: int = 0

    @property
    def rows(self) -> int:
        """Labelled rows: those the model trains or is measured on."""
        return sum(self.chunks)

    def _path(self, index: int, part: str) -> Path:
        return self.folder / f"{self.name}-{index:05d}.{part}.npy"

    def load(self, index: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Chunk `index` as (encoded features, labels) tensors."""
        return (tf.constant(np.load(self._path(index, "x"), mmap_mode="r")),
                tf.constant(np.load(self._path(index, "y"), mmap_mode="r")))

    def labels(self) -> np.ndarray:
        """Every chunk's labels, in chunk order."""
        return np.concatenate([np.load(self._path(i, "y")) for i in range(len(self.chunks))])

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        """Write the next chunk."""
        np.save(self._path(len(self.chunks), "x"), x)
        np.save(self._path(len(self.chunks), "y"), y)
        self.chunks.append(len(y))


def _labelled_batches(files: Sequence[str], spec: FeatureSpec, split: EncodedSplit
                      ) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """Raw features and labels of the rows that have a label, a Parquet batch at a time."""
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_ROWS, columns=[*spec.names, spec.label]):
            labels, present = label_array(batch, spec)
            split.read += batch.num_rows
            split.dropped += int((~present).sum())
            if present.all():
                yield feature_arrays(batch, spec), labels
            else:
                yield {k: v[present] for k, v in feature_arrays(batch, spec).items()}, labels[present]


def encode_split(model: keras.Model, spec: FeatureSpec, files: Sequence[str], folder: Path, name: str,
                 batch_size: int, log: Callable[[str], None], chunk_rows: int = CHUNK_ROWS) -> EncodedSplit:
    """Encode a split's files into chunks under `folder`; no labelled row is a LooplineInputError."""
    started = time.perf_counter()
    features_of = encoder(model)
    encode = tf.function(lambda features: features_of(features, training=False), input_signature=[raw_signature(spec)],
                         autograph=False)
    rows = max(batch_size, chunk_rows // batch_size * batch_size)
    width = int(encode.get_concrete_function().structured_outputs.shape[-1])
    label_type = np.int32 if spec.task == CLASSIFICATION else np.float32
    split = EncodedSplit(folder, name)
    x, y, filled = np.empty((rows, width), np.float32), np.empty(rows, label_type), 0
    for features, labels in _labelled_batches(files, spec, split):
        encoded, taken = np.asarray(encode(features)), 0
        while taken < len(labels):
            step = min(rows - filled, len(labels) - taken)
            x[filled:filled + step], y[filled:filled + step] = encoded[taken:taken + step], labels[taken:taken + step]
            filled, taken = filled + step, taken + step
            if filled == rows:
                split.append(x, y)
                filled = 0
    if filled:
        split.append(x[:filled], y[:filled])
    if not split.rows:
        raise LooplineInputError(f"no rows with a {spec.label!r} label in {list(files)}")
    log(f"train: encoded {split.rows:,} {name} rows ({width} columns, {len(split.chunks)} chunk(s) of up to "
        f"{rows:,}) in {time.perf_counter() - started:.1f} s")
    return split
