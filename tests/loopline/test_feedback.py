"""`loopline feedback`: labels files checked against a real prediction log and registry, and stored (or not) in the
labels store beside the log; the command's lines and exit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.labels import labels_root, read_labels
from components.monitor.label_checks import DEFAULT_LOOKBACK_DAYS
from loopline import cli
from loopline.feedback import LOOKBACK_DAYS, feedback
from support.label_files import label_rows, write_labels_file
from support.spec_registry import PENGUIN_CLASSES, classification, regression, spec_registry
from support.traffic import write_rows

MODEL = "penguins"
INPUT = {"island": "Biscoe", "bill_length_mm": 40.1}
OUTPUT = {"label": "Adelie", "probabilities": {"Adelie": 0.8, "Chinstrap": 0.1, "Gentoo": 0.1}}


@dataclass(frozen=True)
class Served:
    """A prediction log of six rows served by v1 and three by v2 (which knows one more class), three hours ago."""

    log: str
    at: datetime
    v1: list[str]
    v2: list[str]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return spec_registry(str(tmp_path_factory.mktemp("registry")),
                         [classification(PENGUIN_CLASSES), classification([*PENGUIN_CLASSES, "Emperor"])])


def _serve(log: str) -> Served:
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)
    return Served(log, at, write_rows(log, [INPUT] * 6, [OUTPUT] * 6, at, "1"),
                  write_rows(log, [INPUT] * 3, [OUTPUT] * 3, at + timedelta(hours=1), "2"))


@pytest.fixture()
def served(tmp_path: Path) -> Served:
    return _serve(str(tmp_path / "log"))


def _file(folder: Path | str, *rows: tuple, suffix: str = ".csv") -> str:
    """A labels file of (inference id, label[, time]) rows, in the format `suffix` names."""
    return write_labels_file(folder, label_rows(*rows), suffix)


def _run(served: Served, registry: str, labels: str, *options: str) -> int:
    return cli.main(["feedback", "--labels", labels, "--prediction-log", served.log, "--registry", registry, *options])


def _stored_files(log: str) -> list[str]:
    return uri_io.list_files(labels_root(log), recursive=True)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_a_labels_file_in_each_format_is_stored_as_one_batch(
    served: Served, registry: str, tmp_path: Path, capsys: pytest.CaptureFixture, suffix: str
) -> None:
    labels = _file(tmp_path, (served.v1[0], "Adelie"), (served.v1[1], "Gentoo"), (served.v2[0], "Emperor"),
                   (served.v1[2], "Chinstrap"), suffix=suffix)
    assert _run(served, registry, labels) == 0
    [batch] = _stored_files(served.log)
    assert capsys.readouterr().out == (f"loopline: feedback: stored 4 labels for penguins (v1 3, v2 1) in "
                                       f"{uri_io.join(labels_root(served.log), batch)}\n")
    stored = read_labels(served.log, MODEL, served.at)
    assert stored.column("inference_id").to_pylist() == [served.v1[0], served.v1[1], served.v2[0], served.v1[2]]
    assert stored.column("label").to_pylist() == ["Adelie", "Gentoo", "Emperor", "Chinstrap"]


def test_one_bad_row_stores_nothing_and_the_error_names_each_reason(
    served: Served, registry: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    labels = _file(tmp_path, (served.v1[0], "Adelie"), (served.v1[1], "Gentoo"), (served.v2[0], "Emperor"),
                   ("nope:0", "Adelie"), (served.v1[3], "Emperor"))
    assert _run(served, registry, labels) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"loopline: error: labels file {labels}: 2 of 5 rows refused: ")
    assert re.search(r"1 unknown inference id \(row 4 'nope:0'; not in the prediction log of penguins since "
                     r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\); 1 label not a class of v1 \(row 5 'Emperor'; "
                     r"classes Adelie, Chinstrap, Gentoo\); nothing stored .* --skip-invalid to store the other 3 ",
                     error)
    assert _stored_files(served.log) == []


def test_skip_invalid_stores_the_valid_rows_and_writes_every_refused_one_beside_them(
    served: Served, registry: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    [v3] = write_rows(served.log, [INPUT], [OUTPUT], served.at + timedelta(minutes=5), "3")  # not in the registry
    unknown = [(f"nope:{i}", "Adelie") for i in range(7)]
    labels = _file(tmp_path, *unknown, (served.v1[0], "Emperor"), (served.v2[0], "Emperor"), (served.v1[1], "Gentoo"),
                   (v3, "Adelie"))
    assert _run(served, registry, labels, "--skip-invalid") == 0
    stored_line, refused_line = capsys.readouterr().out.splitlines()
    assert stored_line.startswith("loopline: feedback: stored 2 labels for penguins (v1 1, v2 1) in ")
    assert refused_line.startswith("loopline: feedback: 9 of 11 rows refused: 7 unknown inference id (row 1 'nope:0', "
                                   "row 2 'nope:1', row 3 'nope:2', row 4 'nope:3', row 5 'nope:4', ...; ")
    assert f"; 1 served by v3, which the registry does not hold (row 11 '{v3}'); " in refused_line
    refused_uri = refused_line.rsplit(" written to ", 1)[1]
    assert refused_uri == stored_line.rsplit(" in ", 1)[1].removesuffix(".parquet") + ".refused.csv"
    refused = pacsv.read_csv(refused_uri).to_pylist()
    assert [r["row"] for r in refused] == [1, 2, 3, 4, 5, 6, 7, 8, 11]  # every refused row, not only the examples
    assert refused[7] == {"row": 8, "inference_id": served.v1[0], "label": "Emperor",
                          "reason": "label not a class of v1"}
    stored = read_labels(served.log, MODEL, served.at)
    assert stored.column("inference_id").to_pylist() == [served.v2[0], served.v1[1]]


def test_when_every_row_is_refused_skip_invalid_stores_none_and_still_writes_them(
    served: Served, registry: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert _run(served, registry, _file(tmp_path, ("nope:0", "Adelie")), "--skip-invalid") == 0
    assert capsys.readouterr().out.splitlines()[0] == ("loopline: feedback: stored 0 labels for penguins (every row "
                                                       "was refused)")
    [refused] = _stored_files(served.log)
    assert refused.endswith(".refused.csv") and read_labels(served.log, MODEL, served.at).num_rows == 0


def test_a_label_for_an_id_already_stored_is_refused_and_never_replaces_it(
    served: Served, registry: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    first = _file(tmp_path / "first", (served.v1[0], "Adelie"))
    second = _file(tmp_path / "second", (served.v1[1], "Gentoo"), (served.v1[0], "Gentoo"), suffix=".jsonl")
    assert _run(served, registry, first) == 0
    assert _run(served, registry, second) == 2
    assert ("1 of 2 rows refused: 1 inference id already labelled (row 2 "
            f"'{served.v1[0]}'; a stored label is never replaced)") in capsys.readouterr().err
    assert len(_stored_files(served.log)) == 1
    assert _run(served, registry, second, "--skip-invalid") == 0
    stored = read_labels(served.log, MODEL, served.at)
    assert dict(zip(stored.column("inference_id").to_pylist(), stored.column("label").to_pylist())) == {
        served.v1[0]: "Adelie", served.v1[1]: "Gentoo"}


def test_rows_of_two_versions_are_each_checked_against_the_classes_of_the_version_that_served_them(
    served: Served, registry: str, tmp_path: Path
) -> None:
    labels = _file(tmp_path, (served.v2[0], "Emperor"), (served.v1[0], "Emperor"), (served.v2[1], "Adelie"),
                   (served.v1[1], "Adelie"), suffix=".parquet")
    result = feedback(labels, MODEL, served.log, registry, skip_invalid=True)
    assert result.checked.by_version() == {"1": 1, "2": 2}
    assert result.checked.refused.to_pylist() == [{"row": 2, "inference_id": served.v1[0], "label": "Emperor",
                                                   "reason": "label not a class of v1"}]


def test_the_time_column_with_an_offset_without_one_and_left_blank(served: Served, registry: str,
                                                                    tmp_path: Path) -> None:
    labels = _file(tmp_path, (served.v1[0], "Adelie", "2026-12-02T10:00:00+02:00"),
                   (served.v1[1], "Adelie", "2026-12-02T10:00:00"), (served.v1[2], "Adelie", ""))
    now = served.at + timedelta(hours=4)
    feedback(labels, MODEL, served.log, registry, now=now)
    at = datetime(2026, 12, 2, 10, tzinfo=timezone.utc)
    stored = read_labels(served.log, MODEL, served.at)
    assert stored.column("time").to_pylist() == [at - timedelta(hours=2), at, now]
    assert stored.column("received").to_pylist() == [now] * 3


def test_labels_arriving_on_two_days_are_read_back_together_and_checked_against_both(
    served: Served, registry: str, tmp_path: Path
) -> None:
    day1, day2 = served.at + timedelta(hours=4), served.at + timedelta(days=1, hours=4)
    feedback(_file(tmp_path / "a", (served.v1[0], "Adelie")), MODEL, served.log, registry, now=day1)
    feedback(_file(tmp_path / "b", (served.v2[0], "Gentoo")), MODEL, served.log, registry, now=day2)
    assert [name.split("/")[1] for name in _stored_files(served.log)] == [day1.date().isoformat(),
                                                                         day2.date().isoformat()]
    stored = read_labels(served.log, MODEL, served.at)
    assert stored.column("inference_id").to_pylist() == [served.v1[0], served.v2[0]]
    assert stored.column("received").to_pylist() == [day1, day2]
    assert read_labels(served.log, MODEL, day2).column("inference_id").to_pylist() == [served.v2[0]]
    with pytest.raises(LooplineInputError, match="1 inference id already labelled"):  # the day-1 label counts
        feedback(_file(tmp_path / "c", (served.v1[0], "Gentoo")), MODEL, served.log, registry,
                 now=day2 + timedelta(hours=1))


def test_a_regression_label_is_stored_as_a_number_and_a_non_number_is_refused(tmp_path: Path) -> None:
    registry = spec_registry(str(tmp_path / "registry"), [regression()])
    log, at = str(tmp_path / "log"), datetime.now(timezone.utc) - timedelta(hours=1)
    ids = write_rows(log, [INPUT] * 3, [{"value": 4100.0}] * 3, at)
    mixed = _file(tmp_path, (ids[0], 4500.5), (ids[1], "heavy"), (ids[2], "3e3"), suffix=".jsonl")
    with pytest.raises(LooplineInputError, match="not readable as JSONL"):  # numbers and text in one JSON column
        feedback(mixed, MODEL, log, registry)
    result = feedback(_file(tmp_path, (ids[0], "4500.5"), (ids[1], "heavy"), (ids[2], "3e3")), MODEL, log, registry,
                      skip_invalid=True)
    assert result.checked.summary() == ("1 of 3 rows refused: 1 label not a finite number (v1 is a regression) "
                                        "(row 2 'heavy')")
    assert pq.read_table(result.batch.uri).column("label").to_pylist() == [4500.5, 3000.0]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("labels.csv", "inference_id,species\nr:0,Adelie\n",
     "lacks column(s) label; its columns: inference_id, species"),
    ("labels.csv", "inference_id,label,note\nr:0,Adelie,x\n", "has unexpected column(s) note"),
    ("labels.xlsx", "inference_id,label\nr:0,Adelie\n", "unknown extension '.xlsx'"),
])
def test_a_file_with_the_wrong_columns_or_format_is_a_usage_error_naming_it(
    served: Served, registry: str, tmp_path: Path, capsys: pytest.CaptureFixture, name: str, content: str,
    message: str
) -> None:
    (tmp_path / name).write_text(content)
    assert _run(served, registry, str(tmp_path / name)) == 2
    assert message in capsys.readouterr().err
    assert _stored_files(served.log) == []


def test_a_row_logged_before_the_lookback_is_unknown(served: Served, registry: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    [old] = write_rows(served.log, [INPUT], [OUTPUT], served.at - timedelta(days=3), "1")
    labels = _file(tmp_path, (old, "Adelie"))
    assert _run(served, registry, labels, "--lookback-days", "2") == 2
    assert "1 unknown inference id" in capsys.readouterr().err
    assert _run(served, registry, labels) == 0
    assert LOOKBACK_DAYS == DEFAULT_LOOKBACK_DAYS  # the command's default is the library's


@pytest.mark.gcs
def test_log_registry_labels_file_and_store_on_gcs(gcs_bucket: str, capsys: pytest.CaptureFixture) -> None:
    root = f"gs://{gcs_bucket}/feedback-test"
    served = _serve(f"{root}/log")
    registry = spec_registry(f"{root}/registry", [classification(PENGUIN_CLASSES)])
    labels = _file(root, (served.v1[0], "Gentoo"), ("nope:0", "Adelie"))
    assert _run(served, registry, labels, "--skip-invalid") == 0
    stored_line, refused_line = capsys.readouterr().out.splitlines()
    assert stored_line.startswith(f"loopline: feedback: stored 1 label for penguins (v1 1) in {root}/log/_labels/")
    assert uri_io.exists(refused_line.rsplit(" written to ", 1)[1])
    assert read_labels(served.log, MODEL, served.at).column("label").to_pylist() == ["Gentoo"]
