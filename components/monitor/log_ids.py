"""Which rows the prediction log holds: each logged row's inference id, model version and time, nothing else.

What labels are checked against (an inference id names one served row, and its version the classes that row could
have). Only those three fields are parsed into columns (pyarrow's JSON reader, the rest of each object skipped), so
a month of log costs far less memory than the rows `log_reading.read_served` builds.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.monitor.log_reading import MOMENT, Window, in_window, log_files, moments_of

INFERENCE_ID, MODEL_VERSION, TIME = "inference_id", "model_version", "time"
LOGGED_SCHEMA = pa.schema([(INFERENCE_ID, pa.string()), (MODEL_VERSION, pa.string()), (TIME, MOMENT)])
_AS_WRITTEN = pajson.ParseOptions(explicit_schema=pa.schema([(name, pa.string()) for name in LOGGED_SCHEMA.names]),
                                  unexpected_field_behavior="ignore")


def _read_fields(path: str) -> pa.Table:
    """One log file's three fields as strings; a file that types them otherwise (a numeric version) is read whole
    and cast."""
    data = uri_io.read_bytes(path)
    try:
        return pajson.read_json(io.BytesIO(data), parse_options=_AS_WRITTEN)
    except pa.ArrowInvalid:
        pass
    try:
        table = pajson.read_json(io.BytesIO(data))
    except pa.ArrowInvalid as err:
        raise LooplineInputError(f"prediction log: {path} is not readable JSONL: {err}") from None
    missing = pa.nulls(table.num_rows, pa.string())
    return pa.table({name: pc.cast(table.column(name), pa.string()) if name in table.column_names else missing
                     for name in LOGGED_SCHEMA.names})


def _ids_of(path: str, window: Window) -> pa.Table:
    """The rows of one file inside the window that carry an inference id, typed as LOGGED_SCHEMA."""
    table = _read_fields(path)
    if not table.num_rows:
        return LOGGED_SCHEMA.empty_table()
    moments = moments_of(table.column(TIME))
    keep = pc.and_(in_window(moments, window), pc.is_valid(table.column(INFERENCE_ID)))
    return pa.table({INFERENCE_ID: table.column(INFERENCE_ID).filter(keep),
                     MODEL_VERSION: pc.fill_null(table.column(MODEL_VERSION).filter(keep), ""),
                     TIME: moments.filter(keep)}, schema=LOGGED_SCHEMA)


def logged_ids(log_uri: str, model: str, window: Window) -> pa.Table:
    """inference_id, model_version (string, "" if absent) and time (UTC) of every row of `model` logged in the
    window, in log order; an empty table of that schema when there are none."""
    tables = [_ids_of(path, window) for path in log_files(log_uri, model, window)]
    return pa.concat_tables(tables) if tables else LOGGED_SCHEMA.empty_table()


def served_row(log_uri: str, model: str, inference_id: str) -> dict | None:
    """The logged row of `model` with this inference id (its inputs, outputs, model version, time), or None.

    A scan of the model's log, newest day first, that parses only the lines of a file holding the id: how one
    served answer is traced back to its version (and from there its lineage)."""
    base = uri_io.join(log_uri, model)
    needle = json.dumps(inference_id).encode("utf-8")
    for day in sorted((d for d in uri_io.list_dirs(base) if not d.startswith("_")), reverse=True):
        folder = uri_io.join(base, day)
        for name in sorted((n for n in uri_io.list_files(folder) if n.endswith(".jsonl")), reverse=True):
            data = uri_io.read_bytes(uri_io.join(folder, name))
            if needle not in data:
                continue
            for line in data.splitlines():
                if needle in line:
                    row = json.loads(line)
                    if row.get(INFERENCE_ID) == inference_id:
                        return row
    return None
