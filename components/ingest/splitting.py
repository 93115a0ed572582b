"""Deterministic train/eval split: a row's split depends only on its content (or its key)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from components.errors import LooplineInputError

# Fixed 16-byte key, so the hash (and the split) is the same on every run and machine.
_HASH_KEY = "loopline-split-0"
_BUCKETS = 1_000_000


def row_hashes(table: pa.Table, key_column: str = "") -> np.ndarray:
    """A uint64 hash per row, of the key column when one is named, else of the whole row."""
    if key_column:
        if key_column not in table.column_names:
            raise LooplineInputError(
                f"key column {key_column!r} is not in the data; columns: {table.column_names}"
            )
        table = table.select([key_column])
    frame = _canonical(table).to_pandas()
    hashes = pd.util.hash_pandas_object(frame, index=False, hash_key=_HASH_KEY).to_numpy()
    return _mix(hashes)


def _canonical(table: pa.Table) -> pa.Table:
    """Numbers as float64, everything else as text, so a row hashes alike whatever types a file inferred.

    (A CSV column of integers becomes float when one file of it has a missing value.)
    """
    columns = []
    for column in table.columns:
        kind = column.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        columns.append(column.cast(pa.float64() if numeric else pa.string()))
    return pa.table(columns, names=table.column_names)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: pandas combines column hashes without avalanche, so remix the bits."""
    h = h.copy()
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def eval_mask(table: pa.Table, eval_fraction: float, key_column: str = "") -> np.ndarray:
    """Boolean mask of the rows that go to eval; refuses a fraction that leaves a split empty."""
    if not 0.0 < eval_fraction < 1.0:
        raise LooplineInputError(f"eval_fraction must be between 0 and 1 (exclusive), got {eval_fraction}")
    mask = (row_hashes(table, key_column) % _BUCKETS) < int(eval_fraction * _BUCKETS)
    n_eval = int(mask.sum())
    if n_eval == 0 or n_eval == len(mask):
        empty = "eval" if n_eval == 0 else "train"
        raise LooplineInputError(
            f"the {empty} split would be empty: {len(mask)} rows are too few for eval_fraction={eval_fraction}"
        )
    return mask
