"""The data-validation pipeline end to end under kfp.local, through the real `loopline` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components import keys
from loopline.step_log import strip_ansi

pytestmark = pytest.mark.slow


def _loopline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loopline.cli", *args], capture_output=True, text=True, timeout=600
    )


def _only(run_dir: Path, name: str) -> Path:
    found = sorted(run_dir.rglob(name))
    assert len(found) == 1, f"expected one {name} under {run_dir}, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def penguins_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    root = tmp_path_factory.mktemp("root")
    return _loopline("run", "data-validation", "--pipeline-root", str(root)), root


def test_penguins_run_succeeds_and_prints_the_reports(penguins_run) -> None:
    proc, root = penguins_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "pipeline data-validation succeeded" in proc.stdout
    assert len(proc.stdout.splitlines()) < 20, "a line per step and the summary, not kfp.local's log"
    html_line = next(line for line in proc.stdout.splitlines() if line.startswith("loopline: validate-report.html: "))
    html = Path(html_line.split(": ", 2)[2])
    assert html.is_file() and html.is_relative_to(root)
    assert html.read_bytes() == _only(html.parent, keys.REPORT_HTML).read_bytes()
    assert "bill_length_mm" in html.read_text()


def test_one_line_per_step_with_its_result_and_the_full_log_in_the_run_folder(penguins_run) -> None:
    proc, root = penguins_run
    steps = [line.split() for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert [(s[0], s[2]) for s in steps] == [("ingest", "s"), ("validate", "s")]
    assert proc.stdout.count("282 train / 62 eval rows") == 1 and "  validate " in proc.stdout
    log = Path(proc.stdout.split("loopline: full log: ", 1)[1].splitlines()[0])
    assert log.parent.parent == root and log.name == "run.log"
    text = strip_ansi(log.read_text())
    for step in ("ingest", "validate"):
        assert f"Task '{step}' finished with status SUCCESS" in text
    assert "ingest: 282 train / 62 eval rows" in text, "the steps' own output is in the log"


def test_verbose_streams_the_full_log(tmp_path: Path) -> None:
    proc = _loopline("run", "data-validation", "--verbose", "--pipeline-root", str(tmp_path / "root"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Task 'validate' finished with status SUCCESS" in strip_ansi(proc.stdout)


def test_penguins_run_writes_every_artifact(penguins_run) -> None:
    _, root = penguins_run
    run_dir = next(p for p in root.iterdir() if p.is_dir())
    train = pq.read_table(_only(run_dir / "ingest", "train") / keys.DATA_FILE)
    evaluation = pq.read_table(_only(run_dir / "ingest", "eval") / keys.DATA_FILE)
    assert train.num_rows + evaluation.num_rows == 344
    schema = text_format.Parse(
        (_only(run_dir, "schema") / keys.SCHEMA_FILE).read_text(), schema_pb2.Schema()
    )
    assert {f.name for f in schema.feature} == set(train.column_names)
    for split in keys.SPLITS:
        assert (_only(run_dir, "statistics") / keys.STATS_FILE.format(split=split)).stat().st_size > 0
    decision = json.loads((_only(run_dir, "anomalies") / keys.DECISION_FILE).read_text())
    assert decision["data_ok"] is True, decision
    assert _only(run_dir, keys.REPORT_MARKDOWN).read_text().strip()
    executor_output = json.loads((run_dir / "validate" / "executor_output.json").read_text())
    assert executor_output["parameterValues"]["data_ok"] is True


def test_a_refused_source_fails_the_run_naming_the_problem(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("species,bill_length_mm\n")  # nothing for the checks before the run
    proc = _loopline(
        "run", "data-validation", "--source", str(tmp_path / "empty.csv"), "--pipeline-root", str(tmp_path / "root")
    )
    assert proc.returncode == 1
    failed = proc.stdout.split("FAILURE; its last lines:", 1)[1]
    assert "empty.csv: has a header but zero rows" in failed, "the failed step's own error is shown"
    assert "pipeline data-validation FAILED" in proc.stdout and "loopline: full log: " in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last == ("loopline: Pipeline 'loopline-data-validation' finished with status FAILURE. "
                    "Inner task failed: 'ingest'.")


def test_anomalies_fail_the_run_with_the_reason_and_reports(penguins_run, tmp_path: Path) -> None:
    _, root = penguins_run
    schema = _only(next(p for p in root.iterdir() if p.is_dir()), "schema") / keys.SCHEMA_FILE
    data = tmp_path / "unseen.csv"
    proc = _loopline("generate", "--rows", "2000", "--out", str(data), "--unseen", "island=0.1")
    assert proc.returncode == 0, proc.stderr
    proc = _loopline(
        "run", "data-validation", "--source", str(data), "--schema-uri", str(schema),
        "--pipeline-root", str(tmp_path / "root"),
    )
    assert proc.returncode == 1
    assert "data NOT OK" in proc.stdout and "island" in proc.stdout
    markdown = Path(proc.stdout.split("loopline: validate-report.md: ", 1)[1].splitlines()[0])
    assert "Unseen_" in markdown.read_text()
