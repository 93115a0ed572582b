"""The labels store: the truth about served rows as it comes back, kept inside the prediction log it labels.

    <log>/_labels/<model>/<arrival UTC day>/<UTC time>-<hex>.parquet      a batch: inference_id, label, time, received
    <log>/_labels/<model>/<arrival UTC day>/<UTC time>-<hex>.refused.csv  the rows refused from it: row, inference_id,
                                                                          label, reason (only when some were skipped)

`<log>` is the prediction log's root (a local folder or gs://). `_labels` cannot be mistaken for a model's folder:
model names start with a letter or digit (registry_records.NAME_PATTERN). Each `loopline feedback` call appends one
batch, never rewritten, under a new name that sorts by arrival; it becomes visible whole or not at all (locally a
temp file hard-linked into place, on gs:// one upload), and its refused file, if any, is written before it.

In a batch, `inference_id` is the served row's id (`<request id>:<row index>`), `label` a string for
classification and float64 for regression, `time` when the truth became known (the labels file's own `time`, else
the arrival) and `received` the arrival, both UTC microseconds. `read_labels` returns every batch from a day on with
`label` as a string (a regression reader converts it back).

The store checks nothing itself: `label_checks` checks a file before it is written. Its duplicate check is not a
lock, so two feedback calls at once with the same ids can both store them: a reader that joins labels to served
rows keeps one per inference id.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from components.errors import StorageError
from components.lib import uri as uri_io
from components.lib.bundle import CLASSIFICATION, REGRESSION
from components.lib.registry_records import check_name

LABELS_DIR = "_labels"
BATCH_SUFFIX = ".parquet"
REFUSED_SUFFIX = ".refused.csv"
INFERENCE_ID, LABEL, TIME, RECEIVED = "inference_id", "label", "time", "received"
MOMENT = pa.timestamp("us", tz="UTC")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Batch:
    """Where one call's labels went: the batch file ("" when no row was stored) and its refused file ("" if none)."""

    uri: str
    refused_uri: str
    rows: int


def labels_root(log_uri: str) -> str:
    """The labels store of a prediction log: `<log>/_labels`."""
    return uri_io.join(log_uri, LABELS_DIR)


def model_labels(log_uri: str, model: str) -> str:
    """One model's labels: `<log>/_labels/<model>` (the name checked as the registry checks it)."""
    return uri_io.join(labels_root(log_uri), check_name(model, "model"))


def batch_schema(task: str) -> pa.Schema:
    """A stored batch's columns: the label a float64 for a regression model, else a string."""
    label = pa.float64() if task == REGRESSION else pa.string()
    return pa.schema([(INFERENCE_ID, pa.string()), (LABEL, label), (TIME, MOMENT), (RECEIVED, MOMENT)])


LABELS_SCHEMA = batch_schema(CLASSIFICATION)  # as read back: the label a string whatever the task


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a time without an offset is UTC already."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _new_batch(log_uri: str, model: str, arrival: datetime) -> str:
    """A fresh batch's URI without suffix: in the arrival day's folder, named by arrival time and random hex."""
    folder = uri_io.join(model_labels(log_uri, model), arrival.date().isoformat())
    return uri_io.join(folder, f"{arrival.strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(4)}")


def _stored(labels: pa.Table, task: str, arrival: datetime) -> pa.Table:
    """The rows as a batch stores them: typed by task, a missing time filled with the arrival."""
    received = pa.scalar(arrival, MOMENT)
    times = labels.column(TIME) if TIME in labels.column_names else pa.nulls(labels.num_rows, MOMENT)
    return pa.table({INFERENCE_ID: labels.column(INFERENCE_ID), LABEL: labels.column(LABEL),
                     TIME: pc.fill_null(pc.cast(times, MOMENT), received),
                     RECEIVED: pa.repeat(received, labels.num_rows)}, schema=batch_schema(task))


def _create(uri: str, data: bytes) -> None:
    """Write a new file whole; refuse to replace one (a name clash means another writer drew the same name)."""
    if not uri_io.create_if_absent(uri, data):
        raise StorageError(f"{uri} exists already: another writer took the same batch name; run the command again")


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _csv(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink)
    return sink.getvalue().to_pybytes()


def write_batch(log_uri: str, model: str, labels: pa.Table, task: str, refused: pa.Table | None = None,
                now: datetime | None = None) -> Batch:
    """Append `labels` (inference_id, label, optional time) as a new batch arriving `now` (default: the clock),
    with the `refused` rows in a file beside it, written first so no batch is ever visible without it."""
    arrival = utc(now or datetime.now(timezone.utc))
    base = _new_batch(log_uri, model, arrival)
    refused_uri = batch_uri = ""
    if refused is not None and refused.num_rows:
        refused_uri = base + REFUSED_SUFFIX
        _create(refused_uri, _csv(refused))
    if labels.num_rows:
        batch_uri = base + BATCH_SUFFIX
        _create(batch_uri, _parquet(_stored(labels, task, arrival)))
    return Batch(batch_uri, refused_uri, labels.num_rows)


def batch_files(log_uri: str, model: str, since: datetime) -> list[str]:
    """The model's batch files whose arrival day is `since`'s UTC date or later, in arrival order."""
    root, first = model_labels(log_uri, model), utc(since).date().isoformat()
    days = [day for day in uri_io.list_dirs(root) if _DAY.match(day) and day >= first]
    return [uri_io.join(root, day, name) for day in days for name in uri_io.list_files(uri_io.join(root, day))
            if name.endswith(BATCH_SUFFIX) and not name.startswith(".")]


def _read(uri: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(io.BytesIO(uri_io.read_bytes(uri)), columns=columns)


def _as_read(batch: pa.Table) -> pa.Table:
    """A stored batch in LABELS_SCHEMA: its label as a string whatever the task."""
    return pa.table({name: pc.cast(batch.column(name), LABELS_SCHEMA.field(name).type) for name in LABELS_SCHEMA.names},
                    schema=LABELS_SCHEMA)


def read_labels(log_uri: str, model: str, since: datetime) -> pa.Table:
    """Every label of `model` that arrived on `since`'s UTC day or later (labels come after the rows they label), as
    LABELS_SCHEMA in arrival order; an empty table of that schema when there are none."""
    tables = [_as_read(_read(uri)) for uri in batch_files(log_uri, model, since)]
    return pa.concat_tables(tables) if tables else LABELS_SCHEMA.empty_table()


def stored_ids(log_uri: str, model: str, since: datetime) -> pa.Array:
    """The distinct inference ids labelled in batches that arrived on `since`'s UTC day or later."""
    ids = [_read(uri, [INFERENCE_ID]).column(INFERENCE_ID) for uri in batch_files(log_uri, model, since)]
    return pc.unique(pa.chunked_array([chunk for column in ids for chunk in column.chunks], pa.string()))
