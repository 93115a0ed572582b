"""A batch's model inputs and labels as numpy arrays, by a bundle's feature contract.

Shared by training, evaluation and in-process inference, so each reads rows the same way: a
missing number is NaN, a missing category is "", a label is a class index (or a float).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.errors import LooplineInputError
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, FeatureSpec


def _array(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    """One column as a single Arrow array (a Table's columns come in chunks)."""
    column = batch.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def feature_arrays(batch: pa.RecordBatch | pa.Table, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """The model's raw inputs of a batch: float32 with NaN for numbers, str with "" for categories."""
    arrays = {}
    for feature in spec.features:
        column = _array(batch, feature.name)
        if feature.kind == CATEGORICAL:
            text = pc.fill_null(pc.cast(column, pa.string()), "")
            arrays[feature.name] = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        else:
            floats = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
            arrays[feature.name] = floats.astype(np.float32)
    return arrays


def label_array(batch: pa.RecordBatch | pa.Table, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Label values (class index or float) and the mask of rows that have one."""
    column = _array(batch, spec.label)
    present = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if spec.task == CLASSIFICATION:
        text = pc.cast(column, pa.string())
        index = pc.index_in(text, value_set=pa.array(spec.classes, pa.string()))
        outside = pc.and_(text.is_valid(), index.is_null())
        if pc.any(outside).as_py():
            unknown = sorted(set(pc.filter(text, outside).to_pylist()))
            raise LooplineInputError(f"label {spec.label!r} has values outside the classes {spec.classes}: {unknown}")
        return pc.fill_null(index, -1).to_numpy(zero_copy_only=False).astype(np.int32), present
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float32), present
