"""Labels files as a user hands them to `loopline feedback`: rows of inference_id, label (and time), in the format
the file's extension names."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from components.lib import uri as uri_io


def label_rows(*rows: tuple) -> list[dict]:
    """Rows of a labels file from (inference id, label[, time]) tuples."""
    return [dict(zip(("inference_id", "label", "time"), row)) for row in rows]


def labels_bytes(rows: list[dict], suffix: str) -> bytes:
    """`rows` as the content of a labels file of the format `suffix` names (JSONL values as given)."""
    if suffix in (".jsonl", ".ndjson"):
        return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pylist(rows)
    if suffix == ".csv":
        pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_labels_file(folder: Path | str, rows: list[dict], suffix: str) -> str:
    """Write `rows` as `labels<suffix>` in a local folder or under a gs:// URI; returns the file's path or URI."""
    uri = uri_io.join(str(folder), f"labels{suffix}")
    uri_io.write_bytes(uri, labels_bytes(rows, suffix))
    return uri
