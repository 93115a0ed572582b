"""The prediction log read back: the rows one model served in a time window, grouped by model version.

The predictor writes JSONL batches under `<log>/<model>/<UTC day>/` (local or gs://), one object a
row: `time`, `model`, `model_version`, `inputs` {feature: value}, `outputs` ({"label", ...} or
{"value"}). Files are read whole with pyarrow's JSON reader and their columns taken with Arrow compute,
never a Python object per row; only day folders inside the window are listed, and rows outside it are
dropped by their own time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.baseline import PREDICTION, Baseline
from components.lib.bundle import CATEGORICAL


@dataclass(frozen=True)
class Window:
    """[since, until) in UTC."""

    since: datetime
    until: datetime

    def days(self) -> list[str]:
        """The UTC dates (YYYY-MM-DD, the log's day folders) the window touches; a window ending at midnight does not
        touch the day that starts then (its end is not in it)."""
        end = self.until.astimezone(timezone.utc) - timedelta(microseconds=1)
        day, last, found = self.since.astimezone(timezone.utc).date(), end.date(), []
        while day <= last:
            found.append(day.isoformat())
            day += timedelta(days=1)
        return found

    def __str__(self) -> str:
        return f"{self.since.isoformat(timespec='seconds')} .. {self.until.isoformat(timespec='seconds')}"

    def earlier(self, hours: float) -> Window:
        """The same window `hours` earlier."""
        return Window(self.since - timedelta(hours=hours), self.until - timedelta(hours=hours))


@dataclass
class Served:
    """One version's logged rows in the window: raw values per feature (and PREDICTION), the row count, and per row
    what the performance measures need: inference id, time, sample rate and (classification) class probabilities."""

    version: str
    rows: int = 0
    values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    ids: list[pa.Array] = field(default_factory=list)
    moments: list[np.ndarray] = field(default_factory=list)  # microseconds since the epoch, UTC
    rates: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)  # (rows, classes) probabilities; NaN where not logged

    def column(self, name: str) -> np.ndarray:
        """All of one feature's (or PREDICTION's) values, in log order."""
        parts = self.values.get(name, [])
        return np.concatenate(parts) if parts else np.array([], dtype=object)

    def inference_ids(self) -> pa.Array:
        """Every row's inference id (null where an old log has none), in log order."""
        return pa.concat_arrays(self.ids) if self.ids else pa.array([], pa.string())

    def times(self) -> np.ndarray:
        """Every row's time in microseconds since the epoch (UTC)."""
        return np.concatenate(self.moments) if self.moments else np.array([], dtype=np.int64)

    def weights(self) -> np.ndarray:
        """The served rows each logged row stands for: 1 / the sample rate it was logged at (1 where the log does not
        say)."""
        return 1.0 / np.concatenate(self.rates) if self.rates else np.array([], dtype=np.float64)

    def probabilities(self) -> np.ndarray:
        """The logged class probabilities, (rows, classes) in the baseline's class order."""
        return np.concatenate(self.scores) if self.scores else np.zeros((0, 0))


def parse_time(text: str) -> datetime:
    """An ISO time; a time without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LooplineInputError(f"not an ISO time: {text!r} (for example 2026-12-02T08:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def window_of(since: str, until: str, hours: float) -> Window:
    """The window from ISO `since`/`until` (either may be ""), else the last `hours` before now (or `until`)."""
    end = parse_time(until) if until else datetime.now(timezone.utc)
    start = parse_time(since) if since else end - timedelta(hours=hours)
    if hours <= 0 and not since:
        raise LooplineInputError(f"window_hours must be > 0 when no since is given, got {hours}")
    if start >= end:
        raise LooplineInputError(f"the window is empty: since {start.isoformat()} is not before until "
                                 f"{end.isoformat()}")
    return Window(start, end)


def log_files(log_uri: str, model: str, window: Window) -> list[str]:
    """The log's files for `model` in the day folders the window touches, in name (= time) order."""
    base = uri_io.join(log_uri, model)
    files = []
    for day in window.days():
        folder = uri_io.join(base, day)
        files += [uri_io.join(folder, name) for name in uri_io.list_files(folder) if name.endswith(".jsonl")]
    return sorted(files)


MOMENT = pa.timestamp("us", tz="UTC")  # a logged row's time, as Python's datetime holds it


def moments_of(times: pa.ChunkedArray) -> pa.ChunkedArray:
    """The rows' times as UTC timestamps: Arrow parses the predictor's ISO strings (with an offset) in C; any other
    form (no offset, a date alone) goes row by row through parse_time, which names a value that is not a time."""
    if times.null_count:
        raise LooplineInputError(f"prediction log: {times.null_count} row(s) without a time")
    if pa.types.is_string(times.type) or pa.types.is_timestamp(times.type):  # offset-less times may come typed
        try:
            return pc.cast(times, MOMENT)
        except pa.ArrowInvalid:
            pass
    return pa.chunked_array([pa.array([parse_time(t) for t in pc.cast(times, pa.string()).to_pylist()], MOMENT)])


def in_window(moments: pa.ChunkedArray, window: Window) -> pa.ChunkedArray:
    """A mask of the rows whose own time is in [since, until)."""
    return pc.and_(pc.greater_equal(moments, pa.scalar(window.since, MOMENT)),
                   pc.less(moments, pa.scalar(window.until, MOMENT)))


def values_of(values: pa.Array | pa.ChunkedArray, kind: str, name: str) -> np.ndarray:
    """A logged column as the raw values baseline bins take: floats with NaN, or strings with "" (each distinct string
    one object, from Arrow's dictionary: no Python object per row)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if kind == CATEGORICAL:
        encoded = pc.dictionary_encode(pc.fill_null(pc.cast(values, pa.string()), ""))
        words = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
        return words[encoded.indices.to_numpy(zero_copy_only=False)]
    try:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise LooplineInputError(f"prediction log: feature {name!r} is not numeric in the served rows "
                                 f"({err})") from None


def _field(struct: pa.StructArray, name: str, kind: str, rows: int) -> np.ndarray:
    """One struct field's values (absent from every row of the file: all missing)."""
    if name not in {f.name for f in struct.type}:
        return np.full(rows, "", dtype=object) if kind == CATEGORICAL else np.full(rows, np.nan)
    return values_of(struct.field(name), kind, name)


def _columns(table: pa.Table, kinds: dict[str, str], prediction_kind: str) -> dict[str, np.ndarray]:
    """Every feature's values from `inputs` and the prediction's from `outputs` (label or value)."""
    inputs, outputs = table.column("inputs").combine_chunks(), table.column("outputs").combine_chunks()
    columns = {name: _field(inputs, name, kind, table.num_rows) for name, kind in kinds.items()}
    key = "label" if prediction_kind == CATEGORICAL else "value"
    columns[PREDICTION] = _field(outputs, key, prediction_kind, table.num_rows)
    return columns


def _optional(table: pa.Table, name: str, kind: pa.DataType) -> pa.Array:
    """A top-level column cast to `kind`, or all nulls when a log older than that column lacks it."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, kind)
    return pc.cast(table.column(name).combine_chunks(), kind)


def _scores(table: pa.Table, classes: list[str]) -> np.ndarray:
    """The logged `outputs.probabilities` as a (rows, classes) matrix; NaN where a class (or all) is absent."""
    outputs = table.column("outputs").combine_chunks()
    if "probabilities" not in {f.name for f in outputs.type}:
        return np.full((table.num_rows, len(classes)), np.nan)
    struct = outputs.field("probabilities")
    return np.column_stack([_field(struct, name, "numeric", table.num_rows) for name in classes]) if classes else \
        np.zeros((table.num_rows, 0))


def _add(entry: Served, rows: pa.Table, moments: pa.ChunkedArray | pa.Array, kinds: dict[str, str],
         baseline: Baseline) -> None:
    """Append one file's rows of one version to its entry."""
    entry.rows += rows.num_rows
    for name, values in _columns(rows, kinds, baseline.prediction.kind).items():
        entry.values.setdefault(name, []).append(values)
    entry.ids.append(_optional(rows, "inference_id", pa.string()))
    micros = pc.cast(pc.cast(moments, pa.timestamp("us")), pa.int64())
    entry.moments.append(np.asarray(micros.to_numpy(), dtype=np.int64))
    rates = _optional(rows, "sample_rate", pa.float64()).to_numpy(zero_copy_only=False)
    entry.rates.append(np.where(np.isnan(rates), 1.0, rates))
    if baseline.prediction.kind == CATEGORICAL:
        entry.scores.append(_scores(rows, baseline.prediction.vocabulary))


def read_served(log_uri: str, model: str, window: Window, baseline: Baseline) -> dict[str, Served]:
    """Every logged row of `model` inside the window, by model version, as the baseline's bins read them."""
    kinds = {bins.name: bins.kind for bins in baseline.features}
    served: dict[str, Served] = {}
    for path in log_files(log_uri, model, window):
        table = pajson.read_json(io.BytesIO(uri_io.read_bytes(path)))
        if not table.num_rows:
            continue
        moments = moments_of(table.column("time"))
        inside = in_window(moments, window)
        table, moments = table.filter(inside), moments.filter(inside)
        if not table.num_rows:
            continue
        versions = pc.fill_null(pc.cast(table.column("model_version"), pa.string()), "")
        found = sorted(pc.unique(versions).to_pylist())
        for version in found:
            mask = None if len(found) == 1 else pc.equal(versions, version)
            rows, times = (table, moments) if mask is None else (table.filter(mask), moments.filter(mask))
            _add(served.setdefault(version, Served(version)), rows, times, kinds, baseline)
    return served
