"""TFDV's own check of one version's served rows against the schema frozen in that version's bundle.

Drift says how far a distribution moved; this says which served values the schema does not allow:
unseen categories, features missing more often than in training (or absent), values of another type.
The rows go to TFDV as the types the schema declares (the log's "2007" for an INT feature is 2007;
a value that cannot be one stays text, so TFDV sees the type change). Statistics are computed with
validate's own generators, in memory, on at most SAMPLE_ROWS rows (a seeded sample).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.lib import uri as uri_io
from components.lib.baseline import BASELINE_DIR, SCHEMA_FILE
from components.validate.checks import AnomalyRow, anomaly_rows

SAMPLE_ROWS = 100_000
SERVED = "served"


def bundle_schema(bundle_uri: str) -> schema_pb2.Schema | None:
    """The schema in a bundle's baseline (local or gs://); None when the bundle has none."""
    text = uri_io.read_bytes_if_exists(uri_io.join(bundle_uri, BASELINE_DIR, SCHEMA_FILE))
    return None if text is None else text_format.Parse(text.decode("utf-8"), schema_pb2.Schema())


def _typed(values: np.ndarray, declared: int) -> pa.Array:
    """One served column (floats with NaN, or strings with "") as the schema's type, nulls for missing."""
    series = pd.Series(values, dtype=object if values.dtype == object else None)
    missing = series.isna() | (series == "") if series.dtype == object else series.isna()
    if declared == schema_pb2.BYTES:
        text = series.map(lambda v: v if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v))
        return pa.array(text.where(~missing, None).tolist(), pa.string())
    numbers = pd.to_numeric(series.where(~missing), errors="coerce").astype(float)
    if (numbers.isna() & ~missing).any():  # some value is not a number: hand TFDV the text
        return pa.array(series.astype(str).where(~missing, None).tolist(), pa.string())
    present = numbers[~missing]
    if declared == schema_pb2.INT and bool((present == np.round(present)).all()):
        return pa.array(numbers.fillna(0).astype(np.int64).to_numpy(), pa.int64(), mask=missing.to_numpy())
    return pa.array(numbers.to_numpy(), pa.float64(), mask=missing.to_numpy())


def served_batch(schema: schema_pb2.Schema, columns: dict[str, np.ndarray], rows: int, seed: int = 0
                 ) -> pa.RecordBatch:
    """The served features the schema knows, typed as it declares them, on at most SAMPLE_ROWS rows."""
    take = (np.sort(np.random.default_rng(seed).choice(rows, SAMPLE_ROWS, replace=False)) if rows > SAMPLE_ROWS
            else np.arange(rows))
    arrays = {f.name: _typed(columns[f.name][take], f.type) for f in schema.feature if f.name in columns}
    return pa.RecordBatch.from_arrays(list(arrays.values()), list(arrays))


def served_anomalies(schema: schema_pb2.Schema, columns: dict[str, np.ndarray], rows: int) -> list[AnomalyRow]:
    """TFDV's anomalies of the served rows against the schema, restricted to the features a request carries
    (the label is not served)."""
    import tensorflow_data_validation as tfdv

    from components.validate.statistics import batch_statistics

    if not rows:
        return []
    served = schema_pb2.Schema()
    served.CopyFrom(schema)
    del served.feature[:]
    served.feature.extend(f for f in schema.feature if f.name in columns)
    statistics = batch_statistics([served_batch(served, columns, rows)])
    return anomaly_rows(SERVED, tfdv.validate_statistics(statistics, served))
