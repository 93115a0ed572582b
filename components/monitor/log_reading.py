"""The prediction log read back: the rows one model served in a time window, grouped by model version.

The predictor writes JSONL batches under `<log>/<model>/<UTC day>/` (local or gs://), one object a
row: `time`, `model`, `model_version`, `inputs` {feature: value}, `outputs` ({"label", ...} or
{"value"}). Files are read whole with pyarrow's JSON reader; only day folders inside the window are
listed, and rows outside it are dropped by their own time.
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
        """The UTC dates (YYYY-MM-DD, the log's day folders) the window touches."""
        day, last, found = self.since.date(), self.until.date(), []
        while day <= last:
            found.append(day.isoformat())
            day += timedelta(days=1)
        return found

    def __str__(self) -> str:
        return f"{self.since.isoformat(timespec='seconds')} .. {self.until.isoformat(timespec='seconds')}"


@dataclass
class Served:
    """One version's logged rows in the window: raw values per feature (and PREDICTION), and the row count."""

    version: str
    rows: int = 0
    values: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        """All of one feature's (or PREDICTION's) values, in log order."""
        parts = self.values.get(name, [])
        return np.concatenate(parts) if parts else np.array([], dtype=object)


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


def _values(table: pa.Table, path: str, name: str, kind: str) -> np.ndarray:
    """One struct field as the raw values baseline bins take: floats with NaN, or strings with "" (absent: all
    missing)."""
    struct = table.column(path).combine_chunks()
    if name not in {f.name for f in struct.type}:
        return np.full(len(table), "", dtype=object) if kind == CATEGORICAL else np.full(len(table), np.nan)
    values = struct.field(name)
    if kind == CATEGORICAL:
        text = pc.fill_null(pc.cast(values, pa.string()), "")
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    try:
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise LooplineInputError(f"prediction log: feature {name!r} is not numeric in the served rows "
                                 f"({err})") from None


def read_served(log_uri: str, model: str, window: Window, baseline: Baseline) -> dict[str, Served]:
    """Every logged row of `model` inside the window, by model version, as the baseline's bins read them."""
    kinds = {bins.name: bins.kind for bins in baseline.features}
    prediction_kind = baseline.prediction.kind
    served: dict[str, Served] = {}
    for path in log_files(log_uri, model, window):
        table = pajson.read_json(io.BytesIO(uri_io.read_bytes(path)))
        if not table.num_rows:
            continue
        times = pc.cast(table.column("time"), pa.string()).to_pylist()
        keep = np.fromiter((window.since <= parse_time(t) < window.until for t in times), dtype=bool,
                           count=len(times))
        if not keep.any():
            continue
        table = table.filter(pa.array(keep))
        versions = np.asarray(pc.cast(table.column("model_version"), pa.string()).to_pylist(), dtype=object)
        columns = {name: _values(table, "inputs", name, kind) for name, kind in kinds.items()}
        key = "label" if prediction_kind == CATEGORICAL else "value"
        columns[PREDICTION] = _values(table, "outputs", key, prediction_kind)
        for version in np.unique(versions):
            rows = versions == version
            entry = served.setdefault(str(version), Served(str(version)))
            entry.rows += int(rows.sum())
            for name, values in columns.items():
                entry.values.setdefault(name, []).append(values[rows])
    return served
