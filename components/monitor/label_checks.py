"""A labels file read and checked before any of it is stored: its format and columns, then every row against the
prediction log, the contract of the version that served the row, and the labels already stored.

The file is CSV, Parquet or JSONL (by extension), local or gs://, with the columns `inference_id`, `label` and
optionally `time` (ISO; without an offset, UTC) and no others: a misnamed column is refused rather than ignored.
Ids and labels are read as text, so a class `1` in a CSV matches the class "1"; surrounding blanks are dropped.

A row is refused for one reason, the first it fails, in this order: no inference id, no label, a time that is not
ISO, an id repeated in the file (every copy: which label is right is unknown), an id the log does not hold in the
lookback window, an id already labelled, a version the registry does not hold, a label outside the version's
classes (classification) or not a finite number (regression). The result counts each reason with up to five
examples by row number (1 = the first row after any header); what to do with refused rows is the caller's policy.
The checks are Arrow and NumPy column operations, not a Python object per row.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.bundle import CLASSIFICATION, FEATURE_SPEC_FILE, FeatureSpec
from components.lib.labels import INFERENCE_ID, LABEL, MOMENT, TIME, stored_ids, utc
from components.lib.registry import Registry
from components.lib.registry_records import RegistryError
from components.monitor.log_ids import MODEL_VERSION, logged_ids
from components.monitor.log_reading import Window, parse_time

REQUIRED, OPTIONAL = (INFERENCE_ID, LABEL), (TIME,)
FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".jsonl": "JSONL", ".ndjson": "JSONL"}
DEFAULT_LOOKBACK_DAYS = 30
EXAMPLES = 5
ROW, REASON = "row", "reason"
REFUSED_SCHEMA = pa.schema([(ROW, pa.int64()), (INFERENCE_ID, pa.string()), (LABEL, pa.string()),
                            (REASON, pa.string())])

SpecOf = Callable[[str], FeatureSpec | None]


# --- the file ----------------------------------------------------------------------------------


def label_format(uri: str) -> str:
    """The format a labels file's extension names (CSV, Parquet or JSONL); anything else is refused."""
    suffix = PurePosixPath(uri.rstrip("/")).suffix.lower()
    if suffix not in FORMATS:
        raise LooplineInputError(f"labels file {uri}: unknown extension {suffix or '(none)'!r}; use .csv, "
                                 f".parquet or .pq, .jsonl or .ndjson")
    return FORMATS[suffix]


def _parse(data: bytes, kind: str) -> pa.Table:
    """A file's rows; a CSV's id, label and time as text (never typed by their look)."""
    if kind == "CSV":
        as_text = pacsv.ConvertOptions(column_types={name: pa.string() for name in (*REQUIRED, *OPTIONAL)})
        return pacsv.read_csv(io.BytesIO(data), convert_options=as_text)
    if kind == "Parquet":
        return pq.read_table(io.BytesIO(data))
    return pajson.read_json(io.BytesIO(data))


def _check_columns(table: pa.Table, uri: str) -> None:
    """Refuse a file without inference_id and label, or with any column besides them and time."""
    names = table.column_names
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise LooplineInputError(f"labels file {uri} lacks column(s) {', '.join(missing)}; its columns: "
                                 f"{', '.join(names) or '(none)'}")
    extra = [name for name in names if name not in (*REQUIRED, *OPTIONAL)]
    if extra:
        raise LooplineInputError(f"labels file {uri} has unexpected column(s) {', '.join(extra)}: a labels file has "
                                 f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}, nothing else")


def _text(table: pa.Table, name: str, uri: str) -> pa.ChunkedArray:
    """A column as trimmed text, "" as missing (null)."""
    try:
        text = pc.utf8_trim_whitespace(pc.cast(table.column(name), pa.string()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise LooplineInputError(f"labels file {uri}: column {name!r} holds {table.schema.field(name).type}, "
                                 f"not text or numbers") from None
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _time_column(table: pa.Table, uri: str) -> pa.ChunkedArray:
    """The time column as UTC timestamps when the file typed it (a naive one is UTC), else as text; all null when
    there is none."""
    if TIME not in table.column_names:
        return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    column = table.column(TIME)
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return pc.cast(column, MOMENT, safe=False)  # ns -> us truncates, never fails
    return _text(table, TIME, uri)


def read_label_file(uri: str) -> pa.Table:
    """A labels file's rows as inference_id and label (text, null when blank) and time (as `_time_column`)."""
    kind = label_format(uri)
    data = uri_io.read_bytes_if_exists(uri)
    if data is None:
        raise LooplineInputError(f"labels file not found: {uri}")
    try:
        table = _parse(data, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise LooplineInputError(f"labels file {uri} is not readable as {kind}: {err}") from None
    _check_columns(table, uri)
    if not table.num_rows:
        raise LooplineInputError(f"labels file {uri} has no rows")
    return pa.table({INFERENCE_ID: _text(table, INFERENCE_ID, uri), LABEL: _text(table, LABEL, uri),
                     TIME: _time_column(table, uri)})


# --- the verdicts ------------------------------------------------------------------------------


def version_order(version: str) -> tuple[int, str]:
    """A sort key putting version "9" before "10"."""
    return len(version), version


@dataclass(frozen=True)
class Reason:
    """Why rows are refused; `shows` is the column their examples quote, `note` what the reason is checked against."""

    text: str
    shows: str = LABEL
    note: str = ""


@dataclass(frozen=True)
class Example:
    """One refused row: its number in the file, its inference id and its label (or time) as given."""

    row: int
    inference_id: str | None
    value: str | None


@dataclass(frozen=True)
class Refusal:
    """One reason's refused rows: how many, and the first few."""

    reason: Reason
    count: int
    examples: tuple[Example, ...]

    def __str__(self) -> str:
        shown = ", ".join(f"row {e.row} {(e.inference_id if self.reason.shows == INFERENCE_ID else e.value)!r}"
                          for e in self.examples)
        more = ", ..." if self.count > len(self.examples) else ""
        return f"{self.count} {self.reason.text} ({shown}{more}{'; ' + self.reason.note if self.reason.note else ''})"


@dataclass(frozen=True)
class Checked:
    """A labels file checked: the rows to store, the refused rows (row, inference_id, label, reason) and why."""

    rows: int
    task: str  # of the accepted rows' versions; "" when none was accepted
    accepted: pa.Table  # inference_id, label (str or float64 by task), time (UTC, null: none given), model_version
    refused: pa.Table
    refusals: tuple[Refusal, ...]

    def by_version(self) -> dict[str, int]:
        """Accepted rows per served version, in version order."""
        counts = pc.value_counts(self.accepted.column(MODEL_VERSION))
        found = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
        return {version: found[version] for version in sorted(found, key=version_order)}

    def summary(self) -> str:
        """`3 of 120 rows refused: 2 unknown inference id (row 4 'abc:0', ...); 1 label not a class of v2 (...)`."""
        return f"{self.refused.num_rows} of {self.rows} rows refused: " + "; ".join(map(str, self.refusals))


class _Verdicts:
    """One reason per row, the first check it fails; checks run in the order they refuse."""

    def __init__(self, rows: int) -> None:
        self.codes = np.full(rows, -1)
        self.reasons: list[Reason] = []

    @property
    def open(self) -> np.ndarray:
        """The rows no check has refused yet."""
        return self.codes < 0

    def refuse(self, mask: np.ndarray, reason: Reason) -> None:
        fresh = mask & self.open
        if fresh.any():
            self.codes[fresh] = len(self.reasons)
            self.reasons.append(reason)


def _mask(condition: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow boolean column as a NumPy mask, null as False."""
    return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)


def _blank(text: pa.Array) -> np.ndarray:
    """The rows whose text is missing or blank."""
    return _mask(pc.or_kleene(pc.is_null(text), pc.equal(pc.utf8_trim_whitespace(text), "")))


def _repeated(ids: pa.ChunkedArray) -> np.ndarray:
    """The rows whose id occurs more than once."""
    counts = pc.value_counts(ids)
    return _mask(pc.is_in(ids, value_set=counts.field("values").filter(pc.greater(counts.field("counts"), 1))))


def _times(times: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Given times as UTC timestamps (null where none was given) and the rows whose time is not ISO."""
    if times.type == MOMENT:
        return times.combine_chunks(), np.zeros(len(times), dtype=bool)
    try:
        return pc.cast(times, MOMENT).combine_chunks(), np.zeros(len(times), dtype=bool)
    except pa.ArrowInvalid:  # times without an offset, or not times: row by row
        pass
    moments, bad = [], []
    for text in times.to_pylist():
        try:
            moments.append(None if text is None else parse_time(text))
            bad.append(False)
        except LooplineInputError:
            moments.append(None)
            bad.append(True)
    return pa.array(moments, MOMENT), np.array(bad, dtype=bool)


def _numbers(labels: pa.Array) -> np.ndarray:
    """Labels as floats, NaN where one is not a number (Arrow's parser first, Python's for what it refuses)."""
    try:
        return pc.fill_null(pc.cast(labels, pa.float64()), np.nan).to_numpy().astype(np.float64)
    except pa.ArrowInvalid:
        pass
    found = []
    for text in labels.to_pylist():
        try:
            found.append(float(text))
        except (TypeError, ValueError):
            found.append(np.nan)
    return np.array(found, dtype=np.float64)


def _served_specs(verdicts: _Verdicts, versions: np.ndarray, spec_of: SpecOf) -> dict[str, FeatureSpec]:
    """The contract of each version that served a row still open; that version's rows refused when there is none."""
    specs = {}
    for version in sorted({v for v in versions[verdicts.open] if v is not None}, key=version_order):
        spec = spec_of(version)
        if spec is None:
            verdicts.refuse(versions == version, Reason(f"served by v{version}, which the registry does not hold",
                                                        INFERENCE_ID))
        else:
            specs[version] = spec
    return specs


def _check_values(verdicts: _Verdicts, labels: pa.Array, versions: np.ndarray, specs: dict[str, FeatureSpec]
                  ) -> np.ndarray:
    """Refuse each version's rows whose label its contract rules out; the labels as numbers (NaN but where read for
    a regression version)."""
    parsed, numbers = None, np.full(len(labels), np.nan)
    for version, spec in specs.items():
        served = versions == version
        if spec.task == CLASSIFICATION:
            allowed = pa.array(spec.classes, pa.string())
            verdicts.refuse(served & ~_mask(pc.is_in(labels, value_set=allowed)),
                            Reason(f"label not a class of v{version}", note="classes " + ", ".join(spec.classes)))
        else:
            parsed = _numbers(labels) if parsed is None else parsed
            numbers = np.where(served, parsed, numbers)
            verdicts.refuse(served & ~np.isfinite(numbers),
                            Reason(f"label not a finite number (v{version} is a regression)"))
    return numbers


def _task(specs: dict[str, FeatureSpec], versions: np.ndarray) -> str:
    """The one task of the versions that served the accepted rows ("" when none)."""
    tasks = {specs[v].task for v in set(versions)}
    if len(tasks) > 1:
        raise LooplineInputError(f"the labels are for versions of different tasks ({', '.join(sorted(tasks))}): "
                                 f"give each task's labels in a file of its own")
    return tasks.pop() if tasks else ""


def _refusals(verdicts: _Verdicts, labels: pa.Table) -> tuple[pa.Table, tuple[Refusal, ...]]:
    """The refused rows as REFUSED_SCHEMA, and a Refusal per reason with its first EXAMPLES rows."""
    rows = np.flatnonzero(~verdicts.open)
    refused = labels.take(pa.array(rows, pa.int64()))
    codes = verdicts.codes[rows]
    table = pa.table({ROW: pa.array(rows + 1, pa.int64()), INFERENCE_ID: refused.column(INFERENCE_ID),
                      LABEL: refused.column(LABEL),
                      REASON: pa.array([verdicts.reasons[c].text for c in codes], pa.string())}, schema=REFUSED_SCHEMA)
    ids, values = refused.column(INFERENCE_ID).to_pylist(), refused.column(LABEL).to_pylist()
    times = [None if t is None else str(t) for t in refused.column(TIME).to_pylist()]
    summaries = []
    for code, reason in enumerate(verdicts.reasons):
        at = np.flatnonzero(codes == code)
        examples = tuple(Example(int(rows[i]) + 1, ids[i], times[i] if reason.shows == TIME else values[i])
                         for i in at[:EXAMPLES])
        summaries.append(Refusal(reason, len(at), examples))
    return table, tuple(summaries)


def check_labels(labels: pa.Table, logged: pa.Table, stored: pa.Array, spec_of: SpecOf, unknown_note: str = ""
                 ) -> Checked:
    """Check a labels file's rows (`read_label_file`) against the logged rows (`log_ids.logged_ids`), the ids
    already stored and each served version's contract (`spec_of(version)`, None when the registry lacks it)."""
    ids, values = labels.column(INFERENCE_ID).combine_chunks(), labels.column(LABEL).combine_chunks()
    verdicts = _Verdicts(labels.num_rows)
    verdicts.refuse(_blank(ids), Reason("missing inference id", LABEL))  # quoting what the row has
    verdicts.refuse(_blank(values), Reason("missing label", INFERENCE_ID))
    times, bad_times = _times(labels.column(TIME))
    verdicts.refuse(bad_times, Reason("time not an ISO time", TIME, "for example 2026-12-02T08:00:00Z"))
    verdicts.refuse(_repeated(ids), Reason("duplicate inference id in the file", INFERENCE_ID))
    index = pc.index_in(ids, value_set=logged.column(INFERENCE_ID).combine_chunks())
    verdicts.refuse(_mask(pc.is_null(index)), Reason("unknown inference id", INFERENCE_ID, unknown_note))
    verdicts.refuse(_mask(pc.is_in(ids, value_set=stored)), Reason("inference id already labelled", INFERENCE_ID,
                                                                   "a stored label is never replaced"))
    versions = np.asarray(logged.column(MODEL_VERSION).combine_chunks().take(index).to_pylist(), dtype=object)
    specs = _served_specs(verdicts, versions, spec_of)
    numbers = _check_values(verdicts, values, versions, specs)
    keep = verdicts.open
    task, kept = _task(specs, versions[keep]), pa.array(keep)
    label = pa.array(numbers[keep], pa.float64()) if task and task != CLASSIFICATION else values.filter(kept)
    accepted = pa.table({INFERENCE_ID: ids.filter(kept), LABEL: label, TIME: times.filter(kept),
                         MODEL_VERSION: pa.array(versions[keep].tolist(), pa.string())})
    refused, refusals = _refusals(verdicts, labels)
    return Checked(labels.num_rows, task, accepted, refused, refusals)


# --- against the store -------------------------------------------------------------------------


def served_spec(registry: Registry, model: str, version: str) -> FeatureSpec | None:
    """The contract (feature_spec.json) of a logged version, or None when the registry does not hold it."""
    if not version.isdigit() or int(version) < 1:
        return None
    try:
        found = registry.version(model, int(version))
    except RegistryError:
        return None
    spec_uri = uri_io.join(found.uri, FEATURE_SPEC_FILE)
    return FeatureSpec.from_json(uri_io.read_bytes(spec_uri), spec_uri)


def check_against_log(labels: pa.Table, log_uri: str, model: str, registry_uri: str,
                      lookback_days: float = DEFAULT_LOOKBACK_DAYS, now: datetime | None = None) -> Checked:
    """`check_labels` against the rows of `model` logged in the `lookback_days` before `now`, the labels stored since
    then and the registry's contracts of the versions that served them."""
    if lookback_days <= 0:
        raise LooplineInputError(f"the lookback must be more than 0 days, got {lookback_days:g}")
    end = utc(now or datetime.now(timezone.utc))
    window = Window(end - timedelta(days=lookback_days), end)
    registry = Registry(registry_uri)
    note = f"not in the prediction log of {model} since {window.since.isoformat(timespec='seconds')}"
    return check_labels(labels, logged_ids(log_uri, model, window), stored_ids(log_uri, model, window.since),
                        lambda version: served_spec(registry, model, version), note)
