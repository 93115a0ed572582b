"""The splits encoded once: raw features through the model's own encoder into float32 matrices.

The fused trainer's input. Rows are read from Parquet and encoded in large batches into chunks
of about `chunk_rows` rows, raw float32 files that training loads one chunk at a time: data larger
than memory trains in bounded memory. With more than one chunk, every row goes to a chunk drawn at
random (seeded), so each chunk is a uniform sample of the split whatever the source's order (a
file sorted by label or time still gives mixed chunks). Rows with a missing label are dropped and
counted, as the Keras input does (components/train/data.py).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import keras
import numpy as np
import pyarrow.parquet as pq
import tensorflow as tf

from components.errors import LooplineInputError
from components.lib.bundle import CLASSIFICATION, FeatureSpec
from components.train.data import Counts, labelled
from components.train.model import encoder, raw_signature

CHUNK_ROWS = 1 << 20  # rows per chunk, about: ~32 MB of encoding for 8 columns
READ_ROWS = 1 << 16  # rows per Parquet read and encoder call


@dataclass
class EncodedSplit:
    """A split's encoded chunks in `folder`: `chunks` rows each; the rows read and the unlabelled ones in `counts`."""

    folder: Path
    name: str
    width: int
    label_type: type
    chunks: list[int] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    @property
    def read(self) -> int:
        """Rows read."""
        return self.counts.rows

    @property
    def dropped(self) -> int:
        """Rows read without a label."""
        return self.counts.dropped

    @property
    def rows(self) -> int:
        """Labelled rows: those the model trains or is measured on."""
        return sum(self.chunks)

    def path(self, index: int, part: str) -> Path:
        """The raw file of chunk `index`'s features ("x") or labels ("y")."""
        return self.folder / f"{self.name}-{index:05d}.{part}"

    @property
    def capacity(self) -> int:
        """Rows of the largest chunk: every chunk is loaded padded to it, so one compiled program takes them all."""
        return max(self.chunks)

    def load(self, index: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Chunk `index` as (encoded features, labels) tensors padded with zeros to `capacity` rows (its first
        `chunks[index]` rows are real)."""
        x = np.zeros((self.capacity, self.width), np.float32)
        y = np.zeros(self.capacity, self.label_type)
        rows = self.chunks[index]
        x[:rows] = np.fromfile(self.path(index, "x"), np.float32).reshape(rows, self.width)
        y[:rows] = np.fromfile(self.path(index, "y"), self.label_type)
        return tf.constant(x), tf.constant(y)

    def labels(self) -> np.ndarray:
        """Every chunk's labels, in chunk order."""
        return np.concatenate([np.fromfile(self.path(i, "y"), self.label_type) for i in range(len(self.chunks))])


def _labelled_batches(files: Sequence[str], spec: FeatureSpec, split: EncodedSplit
                      ) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """Raw features and labels of the rows that have a label, a Parquet batch at a time."""
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_ROWS, columns=[*spec.names, spec.label]):
            features, labels, kept = labelled(batch, spec, split.counts)
            yield {name: values[kept] for name, values in features.items()}, labels[kept]


def encode_split(model: keras.Model, spec: FeatureSpec, files: Sequence[str], folder: Path, name: str, seed: int,
                 log: Callable[[str], None], chunk_rows: int = CHUNK_ROWS) -> EncodedSplit:
    """Encode a split's files into chunks under `folder`; no labelled row is a LooplineInputError."""
    started = time.perf_counter()
    features_of = encoder(model)
    encode = tf.function(lambda features: features_of(features, training=False), input_signature=[raw_signature(spec)],
                         autograph=False)
    width = int(encode.get_concrete_function().structured_outputs.shape[-1])
    split = EncodedSplit(folder, name, width, np.int32 if spec.task == CLASSIFICATION else np.float32)
    count = max(1, -(-sum(pq.ParquetFile(path).metadata.num_rows for path in files) // chunk_rows))
    split.chunks = [0] * count
    rng = np.random.default_rng([seed, count])
    with contextlib.ExitStack() as files_open:
        outputs = [(files_open.enter_context(open(split.path(i, "x"), "wb")),
                    files_open.enter_context(open(split.path(i, "y"), "wb"))) for i in range(count)]
        for features, labels in _labelled_batches(files, spec, split):
            encoded = np.asarray(encode(spec.by_tensor_name(features)), np.float32)
            chunk = rng.integers(count, size=len(labels)) if count > 1 else np.zeros(len(labels), np.int64)
            order = np.argsort(chunk, kind="stable")
            sizes = np.bincount(chunk, minlength=count)
            for index, rows in enumerate(np.split(order, np.cumsum(sizes)[:-1])):
                outputs[index][0].write(encoded[rows].tobytes())
                outputs[index][1].write(labels[rows].astype(split.label_type).tobytes())
                split.chunks[index] += len(rows)
    if not split.rows:
        raise LooplineInputError(f"no rows with a {spec.label!r} label in {list(files)}")
    log(f"train: encoded {split.rows:,} {name} rows ({width} columns, {count} chunk(s) of ~{split.rows // count:,})"
        f" in {time.perf_counter() - started:.1f} s")
    return split
