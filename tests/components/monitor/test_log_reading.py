"""The prediction log read back: the window by each row's own time, values as the baseline's bins read them,
rows split by model version, and the errors a malformed log gives."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from components.errors import LooplineInputError
from components.lib.baseline import PREDICTION, Baseline, categorical_bins, numeric_bins
from components.monitor.log_reading import Window, read_served

MODEL = "penguins"
WINDOW = Window(datetime(2026, 12, 1, 12, tzinfo=timezone.utc), datetime(2026, 12, 1, 13, tzinfo=timezone.utc))
BASELINE = Baseline(
    [numeric_bins("mass", np.array([3000.0, 4000.0, 5000.0])),
     categorical_bins("island", ["Biscoe", "Dream"], np.array(["Biscoe", "Dream"], dtype=object)),
     numeric_bins("absent", np.array([1.0, 2.0]))],
    categorical_bins(PREDICTION, ["Adelie", "Gentoo"], np.array(["Adelie", "Gentoo"], dtype=object)), 3, 2)


def _row(time: str, version: str = "1", mass: object = 4000, island: object = "Biscoe", label: str = "Adelie"
         ) -> dict:
    return {"time": time, "model": MODEL, "model_version": version, "inputs": {"mass": mass, "island": island},
            "outputs": {"label": label, "probabilities": {"Adelie": 0.9, "Gentoo": 0.1}}}


def _log(tmp_path: Path, rows: list[dict], day: str = "2026-12-01") -> str:
    folder = tmp_path / "log" / MODEL / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{len(list(folder.iterdir()))}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(tmp_path / "log")


def test_rows_are_kept_by_their_own_time_with_any_offset(tmp_path: Path) -> None:
    """[since, until): the predictor's times (ms, +00:00), Z and other offsets compare in UTC."""
    times = ["2026-12-01T11:59:59.999+00:00", "2026-12-01T12:00:00.000+00:00", "2026-12-01T13:30:00.000+01:00",
             "2026-12-01T12:59:59.999Z", "2026-12-01T13:00:00.000+00:00", "2026-12-01T14:00:00.000+01:00"]
    served = read_served(_log(tmp_path, [_row(t, mass=i) for i, t in enumerate(times)]), MODEL, WINDOW, BASELINE)
    assert served["1"].rows == 3
    assert served["1"].column("mass").tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(("times", "kept"), [
    (["2026-12-01T12:30:00", "2026-12-01T13:30:00"], 1),  # Arrow's JSON reader types these as timestamps
    (["2026-12-01T12:30:00", "2026-12-01T12:40:00.000+00:00", "2026-12-01"], 2),  # mixed: read row by row
])
def test_a_time_without_an_offset_is_utc(tmp_path: Path, times: list[str], kept: int) -> None:
    served = read_served(_log(tmp_path, [_row(t) for t in times]), MODEL, WINDOW, BASELINE)
    assert served["1"].rows == kept


def test_a_time_that_is_not_iso_is_an_input_error_naming_it(tmp_path: Path) -> None:
    log = _log(tmp_path, [_row("2026-12-01T12:10:00.000+00:00"), _row("yesterday")])
    with pytest.raises(LooplineInputError, match="not an ISO time: 'yesterday'"):
        read_served(log, MODEL, WINDOW, BASELINE)


def test_a_row_without_a_time_is_an_input_error(tmp_path: Path) -> None:
    log = _log(tmp_path, [_row("2026-12-01T12:10:00.000+00:00"), {**_row(""), "time": None}])
    with pytest.raises(LooplineInputError, match="1 row"):
        read_served(log, MODEL, WINDOW, BASELINE)


def test_values_are_read_as_the_bins_take_them(tmp_path: Path) -> None:
    """Numbers as floats with NaN for null, categories as strings with "" for null (unseen ones kept), a feature no
    row has as all missing, and the predicted label."""
    at = "2026-12-01T12:10:00.000+00:00"
    rows = [_row(at, mass=3500.5), _row(at, mass=None, island=None, label="Gentoo"), _row(at, island="Atlantis")]
    served = read_served(_log(tmp_path, rows), MODEL, WINDOW, BASELINE)["1"]
    assert served.column("mass").dtype == np.float64
    assert np.array_equal(served.column("mass"), [3500.5, np.nan, 4000.0], equal_nan=True)
    assert served.column("island").tolist() == ["Biscoe", "", "Atlantis"]
    assert np.isnan(served.column("absent")).all() and len(served.column("absent")) == 3
    assert served.column(PREDICTION).tolist() == ["Adelie", "Gentoo", "Adelie"]


def test_rows_are_split_by_model_version_across_files(tmp_path: Path) -> None:
    at = "2026-12-01T12:10:00.000+00:00"
    log = _log(tmp_path, [_row(at, "1", mass=1), _row(at, "2", mass=2, island="Dream"), _row(at, "1", mass=3)])
    _log(tmp_path, [_row(at, "2", mass=4)])
    served = read_served(log, MODEL, WINDOW, BASELINE)
    assert {v: s.rows for v, s in served.items()} == {"1": 2, "2": 2}
    assert served["1"].column("mass").tolist() == [1.0, 3.0]
    assert served["2"].column("mass").tolist() == [2.0, 4.0]
    assert served["2"].column("island").tolist() == ["Dream", "Biscoe"]


def test_only_the_windows_day_folders_are_read(tmp_path: Path) -> None:
    log = _log(tmp_path, [_row("2026-12-01T12:10:00.000+00:00")])
    _log(tmp_path, [_row("2026-12-01T12:20:00.000+00:00")], day="2026-12-02")  # misfiled: its folder is outside
    assert read_served(log, MODEL, WINDOW, BASELINE)["1"].rows == 1


def test_a_feature_that_is_not_numeric_is_an_input_error_naming_it(tmp_path: Path) -> None:
    log = _log(tmp_path, [_row("2026-12-01T12:10:00.000+00:00", mass="heavy")])
    with pytest.raises(LooplineInputError, match="feature 'mass' is not numeric"):
        read_served(log, MODEL, WINDOW, BASELINE)


def test_a_window_ending_at_midnight_lists_no_folder_of_the_next_day() -> None:
    """[since, until) is half open: a day's window, or the one before it, never reads the next day's files."""
    midnight = datetime(2026, 12, 2, tzinfo=timezone.utc)
    assert Window(midnight - timedelta(hours=24), midnight).days() == ["2026-12-01"]
    assert Window(midnight - timedelta(hours=1), midnight + timedelta(microseconds=1)).days() == [
        "2026-12-01", "2026-12-02"]
    assert Window(datetime(2026, 12, 1, 23, tzinfo=timezone(timedelta(hours=-2))), midnight + timedelta(days=1)
                  ).days() == ["2026-12-02"], "offsets are turned into UTC days"
