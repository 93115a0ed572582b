"""The labels store (components/lib/labels.py), the logged ids labels are checked against
(components/monitor/log_ids.py) and the checks of a labels file (components/monitor/label_checks.py), on real files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.bundle import CLASSIFICATION, REGRESSION
from components.lib.labels import LABELS_SCHEMA, MOMENT, labels_root, read_labels, stored_ids, write_batch
from components.lib.registry_records import RegistryError, check_name
from components.monitor.label_checks import check_labels, read_label_file
from components.monitor.log_ids import LOGGED_SCHEMA, logged_ids
from components.monitor.log_reading import Window
from support.label_files import label_rows, write_labels_file
from support.spec_registry import PENGUIN_CLASSES, classification, regression
from support.traffic import write_rows

MODEL = "penguins"
SERVED = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
DAY1, DAY2 = datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc), datetime(2026, 12, 3, 7, 15, tzinfo=timezone.utc)
OUTPUT = {"label": "Adelie", "probabilities": {"Adelie": 0.8, "Chinstrap": 0.1, "Gentoo": 0.1}}
SPECS = {"1": classification(PENGUIN_CLASSES), "2": classification([*PENGUIN_CLASSES, "Emperor"])}
NO_STORED = pa.array([], pa.string())


def _labels(*rows: tuple) -> pa.Table:
    """A labels table as read_label_file gives it: (inference id, label[, time text]) per row."""
    rows = [(*row, None)[:3] for row in rows]
    return pa.table({"inference_id": pa.array([r[0] for r in rows], pa.string()),
                     "label": pa.array([r[1] for r in rows], pa.string()),
                     "time": pa.array([r[2] for r in rows], pa.string())})


def _accepted(ids: list[str], labels: list, times: list | None = None, label_type: pa.DataType = pa.string()
              ) -> pa.Table:
    """Checked rows as write_batch takes them."""
    return pa.table({"inference_id": pa.array(ids, pa.string()), "label": pa.array(labels, label_type),
                     "time": pa.array(times or [None] * len(ids), MOMENT)})


def _logged(*versions: tuple[str, int]) -> pa.Table:
    """A logged_ids table: for each (version, rows), ids `v<version>:<row>`."""
    ids = [(f"v{version}:{row}", version) for version, count in versions for row in range(count)]
    return pa.table({"inference_id": [i for i, _ in ids], "model_version": [v for _, v in ids],
                     "time": pa.array([SERVED] * len(ids), MOMENT)}, schema=LOGGED_SCHEMA)


# --- the store ---------------------------------------------------------------------------------


def test_the_store_is_inside_the_log_under_a_name_no_model_can_take() -> None:
    assert labels_root("gs://bucket/log") == "gs://bucket/log/_labels"
    assert labels_root("/data/log/") == "/data/log/_labels"
    with pytest.raises(RegistryError, match="invalid model name '_labels'"):
        check_name("_labels", "model")


def test_batches_are_read_back_as_stored_across_two_arrival_days(tmp_path: Path) -> None:
    log, known = str(tmp_path / "log"), SERVED + timedelta(hours=5)
    first = write_batch(log, MODEL, _accepted(["a:0", "a:1"], ["Adelie", "Gentoo"], [known, None]), CLASSIFICATION,
                        now=DAY1)
    second = write_batch(log, MODEL, _accepted(["b:0"], ["Chinstrap"]), CLASSIFICATION, now=DAY2)
    assert [Path(first.uri).parent.name, Path(second.uri).parent.name] == ["2026-12-02", "2026-12-03"]
    assert Path(first.uri).parent.parent == tmp_path / "log" / "_labels" / MODEL

    stored = read_labels(log, MODEL, SERVED)
    assert stored.schema == LABELS_SCHEMA
    assert stored.to_pylist() == [  # a row without its own time is stamped with its arrival
        {"inference_id": "a:0", "label": "Adelie", "time": known, "received": DAY1},
        {"inference_id": "a:1", "label": "Gentoo", "time": DAY1, "received": DAY1},
        {"inference_id": "b:0", "label": "Chinstrap", "time": DAY2, "received": DAY2}]
    assert read_labels(log, MODEL, DAY2.replace(hour=23)).column("inference_id").to_pylist() == ["b:0"]
    assert sorted(stored_ids(log, MODEL, SERVED).to_pylist()) == ["a:0", "a:1", "b:0"]
    assert stored_ids(log, MODEL, DAY2).to_pylist() == ["b:0"]


def test_a_regression_batch_stores_float64_and_is_read_back_as_text(tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    batch = write_batch(log, MODEL, _accepted(["a:0", "a:1"], [4500.5, 3e3], label_type=pa.float64()), REGRESSION,
                        now=DAY1)
    assert pq.read_table(batch.uri).schema.field("label").type == pa.float64()
    assert read_labels(log, MODEL, DAY1).column("label").to_pylist() == ["4500.5", "3000"]


def test_each_batch_is_a_new_whole_file_and_its_refused_rows_sit_beside_it(tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    refused = pa.table({"row": [2], "inference_id": ["x:0"], "label": ["Adelie"], "reason": ["unknown inference id"]})
    first = write_batch(log, MODEL, _accepted(["a:0"], ["Adelie"]), CLASSIFICATION, refused=refused, now=DAY1)
    again = write_batch(log, MODEL, _accepted(["a:1"], ["Gentoo"]), CLASSIFICATION, now=DAY1)  # the same instant
    later = write_batch(log, MODEL, _accepted(["a:2"], ["Gentoo"]), CLASSIFICATION, now=DAY1 + timedelta(seconds=1))
    folder = Path(first.uri).parent
    assert first.refused_uri == first.uri.removesuffix(".parquet") + ".refused.csv"
    assert sorted(p.name for p in folder.iterdir()) == sorted(  # nothing else: no temp file left behind
        Path(u).name for u in (first.uri, first.refused_uri, again.uri, later.uri))
    assert first.uri != again.uri and again.refused_uri == ""
    assert sorted([first.uri, again.uri])[-1] < later.uri  # names sort by arrival
    assert pacsv.read_csv(first.refused_uri).to_pylist() == refused.to_pylist()
    ids = read_labels(log, MODEL, DAY1).column("inference_id").to_pylist()
    assert sorted(ids[:2]) == ["a:0", "a:1"] and ids[2] == "a:2"  # arrival order (the first two arrived at once)


def test_a_store_without_labels_reads_as_an_empty_table_of_the_schema(tmp_path: Path) -> None:
    empty = read_labels(str(tmp_path / "log"), MODEL, DAY1)
    assert empty.num_rows == 0 and empty.schema == LABELS_SCHEMA
    assert stored_ids(str(tmp_path / "log"), MODEL, DAY1).to_pylist() == []


@pytest.mark.gcs
def test_the_store_on_gcs(gcs_bucket: str) -> None:
    log = f"gs://{gcs_bucket}/labels-store/log"
    refused = pa.table({"row": [1], "inference_id": ["x:0"], "label": ["Adelie"], "reason": ["unknown inference id"]})
    batch = write_batch(log, MODEL, _accepted(["a:0"], ["Gentoo"]), CLASSIFICATION, refused=refused, now=DAY1)
    later = write_batch(log, MODEL, _accepted(["b:0"], ["Adelie"]), CLASSIFICATION, now=DAY2)
    assert batch.uri.startswith(f"{labels_root(log)}/{MODEL}/2026-12-02/") and uri_io.exists(batch.refused_uri)
    assert read_labels(log, MODEL, SERVED).column("inference_id").to_pylist() == ["a:0", "b:0"]
    assert stored_ids(log, MODEL, DAY2).to_pylist() == ["b:0"] and later.uri.endswith(".parquet")


# --- the logged ids ----------------------------------------------------------------------------


def test_logged_ids_are_the_windows_rows_with_their_version_and_time(tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    v1 = write_rows(log, [{"island": "Biscoe"}] * 2, [OUTPUT] * 2, SERVED, version="1")
    v2 = write_rows(log, [{"island": "Dream"}], [OUTPUT], SERVED + timedelta(hours=15), version="2")  # next day
    write_rows(log, [{"island": "Dream"}], [OUTPUT], SERVED - timedelta(days=2), version="1")  # before the window
    logged = logged_ids(log, MODEL, Window(SERVED - timedelta(hours=1), SERVED + timedelta(days=1)))
    assert logged.schema == LOGGED_SCHEMA
    assert logged.to_pylist() == [{"inference_id": v1[0], "model_version": "1", "time": SERVED},
                                  {"inference_id": v1[1], "model_version": "1", "time": SERVED},
                                  {"inference_id": v2[0], "model_version": "2", "time": SERVED + timedelta(hours=15)}]


def test_a_log_typing_the_version_as_a_number_is_read_and_rows_without_an_id_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "log" / MODEL / "2026-12-01"
    folder.mkdir(parents=True)
    rows = [{"time": "2026-12-01T10:00:00.000+00:00", "model_version": 3, "inference_id": "r:0", "inputs": {}},
            {"time": "2026-12-01T10:00:00.000+00:00", "model_version": 3, "inputs": {}}]
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    logged = logged_ids(str(tmp_path / "log"), MODEL, Window(SERVED - timedelta(hours=1), SERVED + timedelta(hours=1)))
    assert logged.column("inference_id").to_pylist() == ["r:0"]
    assert logged.column("model_version").to_pylist() == ["3"]


def test_no_log_is_no_logged_ids(tmp_path: Path) -> None:
    logged = logged_ids(str(tmp_path / "log"), MODEL, Window(SERVED, DAY1))
    assert logged.num_rows == 0 and logged.schema == LOGGED_SCHEMA


# --- the file ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pq", ".jsonl", ".ndjson"])
def test_each_format_reads_as_the_same_ids_and_labels(tmp_path: Path, suffix: str) -> None:
    rows = [{"inference_id": "r:0", "label": "Adelie"}, {"inference_id": "r:1", "label": " Gentoo "},
            {"inference_id": "r:2", "label": ""}]
    table = read_label_file(write_labels_file(tmp_path, rows, suffix))
    assert table.column("inference_id").to_pylist() == ["r:0", "r:1", "r:2"]
    assert table.column("label").to_pylist() == ["Adelie", "Gentoo", None]  # trimmed; a blank is missing
    assert table.column("time").null_count == 3


@pytest.mark.parametrize(("suffix", "labels"), [(".csv", None), (".jsonl", [1, 2]), (".parquet", [1, 2]),
                                                (".parquet", [1.0, 2.0])])
def test_a_numeric_looking_class_is_read_as_its_text(tmp_path: Path, suffix: str, labels: list | None) -> None:
    if labels is None:  # a CSV: the text as written, leading zero and all
        (tmp_path / "labels.csv").write_text("inference_id,label\nr:0,1\nr:1,02\n")
        path, expected = str(tmp_path / "labels.csv"), ["1", "02"]
    else:
        path = write_labels_file(tmp_path, [{"inference_id": f"r:{i}", "label": v} for i, v in enumerate(labels)],
                                 suffix)
        expected = ["1", "2"]
    assert read_label_file(path).column("label").to_pylist() == expected


@pytest.mark.parametrize(("name", "content", "message"), [
    ("labels.txt", "inference_id,label\n", r"unknown extension '\.txt'; use \.csv, \.parquet or \.pq"),
    ("labels", "inference_id,label\n", r"unknown extension '\(none\)'"),
    ("labels.csv", "inference_id,species\nr:0,Adelie\n", "lacks column.s. label; its columns: inference_id, species"),
    ("labels.csv", "inference_id,label,species\nr:0,Adelie,Adelie\n",
     r"has unexpected column\(s\) species: a labels file has inference_id, label and optionally time"),
    ("labels.csv", "inference_id,label\n", "has no rows"),
    ("labels.parquet", "inference_id,label\nr:0,Adelie\n", "is not readable as Parquet"),
    ("labels.jsonl", '{"inference_id": "r:0", "label": 1}\n{"inference_id": "r:1", "label": "Adelie"}\n',
     "is not readable as JSONL"),
])
def test_a_file_that_is_not_a_labels_file_is_refused_naming_why(tmp_path: Path, name: str, content: str,
                                                                message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(LooplineInputError, match=message):
        read_label_file(str(tmp_path / name))


def test_a_missing_labels_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LooplineInputError, match="labels file not found: .*nowhere.csv"):
        read_label_file(str(tmp_path / "nowhere.csv"))


# --- the checks --------------------------------------------------------------------------------


def test_valid_rows_are_accepted_with_the_version_that_served_each() -> None:
    checked = check_labels(_labels(("v1:0", "Adelie"), ("v2:0", "Emperor"), ("v1:1", "Gentoo")),
                           _logged(("1", 2), ("2", 1)), NO_STORED, SPECS.get)
    assert checked.refusals == () and checked.refused.num_rows == 0 and checked.task == CLASSIFICATION
    assert checked.accepted.column("inference_id").to_pylist() == ["v1:0", "v2:0", "v1:1"]
    assert checked.accepted.column("model_version").to_pylist() == ["1", "2", "1"]
    assert checked.by_version() == {"1": 2, "2": 1}


def test_every_reason_refuses_its_rows_and_the_summary_names_them() -> None:
    labels = _labels(("v1:0", "Adelie"), ("", "Adelie"), ("v1:1", None), ("v1:2", "Adelie", "yesterday"),
                     ("nope:0", "Adelie"), ("v1:3", "Gentoo"), ("v3:0", "Adelie"), ("v1:4", "Emperor"),
                     ("v2:0", "Emperor"), ("v2:1", "Gentoo2"))
    checked = check_labels(labels, _logged(("1", 5), ("2", 2), ("3", 1)), pa.array(["v1:3"]), SPECS.get,
                           "not in the prediction log")
    assert checked.refused.to_pylist() == [
        {"row": 2, "inference_id": "", "label": "Adelie", "reason": "missing inference id"},
        {"row": 3, "inference_id": "v1:1", "label": None, "reason": "missing label"},
        {"row": 4, "inference_id": "v1:2", "label": "Adelie", "reason": "time not an ISO time"},
        {"row": 5, "inference_id": "nope:0", "label": "Adelie", "reason": "unknown inference id"},
        {"row": 6, "inference_id": "v1:3", "label": "Gentoo", "reason": "inference id already labelled"},
        {"row": 7, "inference_id": "v3:0", "label": "Adelie",
         "reason": "served by v3, which the registry does not hold"},
        {"row": 8, "inference_id": "v1:4", "label": "Emperor", "reason": "label not a class of v1"},
        {"row": 10, "inference_id": "v2:1", "label": "Gentoo2", "reason": "label not a class of v2"}]
    assert checked.accepted.column("inference_id").to_pylist() == ["v1:0", "v2:0"]
    assert checked.summary() == (
        "8 of 10 rows refused: 1 missing inference id (row 2 'Adelie'); 1 missing label (row 3 'v1:1'); "
        "1 time not an ISO time (row 4 'yesterday'; for example 2026-12-02T08:00:00Z); "
        "1 unknown inference id (row 5 'nope:0'; not in the prediction log); "
        "1 inference id already labelled (row 6 'v1:3'; a stored label is never replaced); "
        "1 served by v3, which the registry does not hold (row 7 'v3:0'); "
        "1 label not a class of v1 (row 8 'Emperor'; classes Adelie, Chinstrap, Gentoo); "
        "1 label not a class of v2 (row 10 'Gentoo2'; classes Adelie, Chinstrap, Gentoo, Emperor)")


def test_an_id_twice_in_the_file_refuses_every_copy() -> None:
    checked = check_labels(_labels(("v1:0", "Adelie"), ("v1:1", "Gentoo"), ("v1:0", "Gentoo"), ("v1:0", "Adelie")),
                           _logged(("1", 2)), NO_STORED, SPECS.get)
    assert checked.refused.column("row").to_pylist() == [1, 3, 4]
    assert set(checked.refused.column("reason").to_pylist()) == {"duplicate inference id in the file"}
    assert checked.accepted.column("inference_id").to_pylist() == ["v1:1"]


def test_a_row_is_refused_for_its_first_reason_only_and_examples_stop_at_five() -> None:
    labels = _labels(*[(f"x:{i}", "Emperor") for i in range(7)], ("v1:0", "Emperor"))  # unknown AND not a class
    checked = check_labels(labels, _logged(("1", 1)), NO_STORED, SPECS.get, "note")
    assert checked.refused.num_rows == 8
    assert checked.summary() == ("8 of 8 rows refused: 7 unknown inference id (row 1 'x:0', row 2 'x:1', "
                                 "row 3 'x:2', row 4 'x:3', row 5 'x:4', ...; note); 1 label not a class of v1 "
                                 "(row 8 'Emperor'; classes Adelie, Chinstrap, Gentoo)")


def test_a_regression_label_must_be_a_finite_number_and_is_kept_as_a_float() -> None:
    labels = _labels(("v1:0", "4500.5"), ("v1:1", "1e3"), ("v1:2", "+12"), ("v1:3", "heavy"), ("v1:4", "nan"),
                     ("v1:5", "inf"))
    checked = check_labels(labels, _logged(("1", 6)), NO_STORED, {"1": regression()}.get)
    assert checked.task == REGRESSION and checked.accepted.schema.field("label").type == pa.float64()
    assert checked.accepted.column("label").to_pylist() == [4500.5, 1000.0, 12.0]
    assert checked.refused.column("label").to_pylist() == ["heavy", "nan", "inf"]
    assert set(checked.refused.column("reason").to_pylist()) == {"label not a finite number (v1 is a regression)"}


def test_times_with_an_offset_are_converted_and_without_one_are_utc() -> None:
    labels = _labels(("v1:0", "Adelie", "2026-12-02T10:00:00+02:00"), ("v1:1", "Adelie", "2026-12-02T10:00:00"),
                     ("v1:2", "Adelie", "2026-12-02T10:00:00Z"), ("v1:3", "Adelie"))
    checked = check_labels(labels, _logged(("1", 4)), NO_STORED, SPECS.get)
    at = datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
    assert checked.accepted.column("time").to_pylist() == [at - timedelta(hours=2), at, at, None]


def test_times_a_jsonl_file_types_itself_are_read_in_utc(tmp_path: Path) -> None:
    path = write_labels_file(tmp_path, label_rows(("v1:0", "Adelie", "2026-12-02T10:00:00+02:00"),
                                                  ("v1:1", "Adelie", "2026-12-02T10:00:00")), ".jsonl")
    checked = check_labels(read_label_file(path), _logged(("1", 2)), NO_STORED, SPECS.get)
    at = datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
    assert checked.accepted.column("time").to_pylist() == [at - timedelta(hours=2), at]


def test_labels_for_versions_of_different_tasks_are_refused_as_a_whole() -> None:
    with pytest.raises(LooplineInputError, match="versions of different tasks .classification, regression."):
        check_labels(_labels(("v1:0", "Adelie"), ("v2:0", "4200")), _logged(("1", 1), ("2", 1)), NO_STORED,
                     {"1": classification(PENGUIN_CLASSES), "2": regression()}.get)
