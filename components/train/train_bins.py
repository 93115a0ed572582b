"""The baseline's train-split bins, read a batch at a time, so data larger than memory gets its baseline too.

Up to SAMPLE_ROWS train rows: one pass, the exact deciles and counts over every row. Above that,
the numeric edges are the deciles of a seeded Bernoulli sample of about SAMPLE_ROWS rows (decile
error ~0.1% of the rows), and a second pass counts every train row into those bins; a value
beyond the sample's range lands in the underflow/overflow bin, as a served one would.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Sequence

import numpy as np
import pyarrow.parquet as pq

from components.lib.arrays import feature_arrays
from components.lib.baseline import Bins, bin_counts, feature_bins
from components.lib.bundle import FeatureSpec

SAMPLE_ROWS = 1_000_000
READ_ROWS = 1 << 16


def _batches(files: Sequence[str], spec: FeatureSpec) -> Iterator[dict[str, np.ndarray]]:
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_ROWS, columns=spec.names):
            yield feature_arrays(batch, spec)


def train_feature_bins(spec: FeatureSpec, files: Sequence[str], seed: int) -> tuple[list[Bins], int]:
    """Every feature's frozen bins with their counts over all train rows, and the number of rows."""
    total = sum(pq.ParquetFile(path).metadata.num_rows for path in files)
    keep = SAMPLE_ROWS / total if total > SAMPLE_ROWS else 1.0
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in spec.names}
    for arrays in _batches(files, spec):
        chosen = rng.random(len(arrays[spec.names[0]])) < keep if keep < 1.0 else slice(None)
        for name, values in arrays.items():
            parts[name].append(values[chosen])
    frozen = feature_bins(spec, {name: np.concatenate(values) for name, values in parts.items()})
    if keep == 1.0:
        return frozen, total
    counts = [np.zeros(len(bins.labels), np.int64) for bins in frozen]
    for arrays in _batches(files, spec):
        for index, bins in enumerate(frozen):
            counts[index] += bin_counts(bins, arrays[bins.name])
    return [dataclasses.replace(bins, counts=[int(c) for c in count]) for bins, count in zip(frozen, counts)], total
