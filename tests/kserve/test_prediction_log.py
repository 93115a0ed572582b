"""Prediction logging on a real server: sampled rows reach JSONL files, and a broken log fails no request."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from components.lib.serving import LocalServer, call, fetch_text
from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)

pytestmark = pytest.mark.serving


def _rows(penguins_splits: dict[str, Path]) -> list[dict]:
    return pq.read_table(next(penguins_splits["eval"].glob("*.parquet"))).drop(["species"]).to_pylist()[:5]


def test_every_row_is_logged_at_rate_one_and_flushed_on_shutdown(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    rows = _rows(penguins_splits)
    log_dir = tmp_path / "predictions"
    with LocalServer(penguins_bundle, "penguins", python=SERVING_PYTHON,
                     extra_args=("--prediction_log_uri", str(log_dir), "--prediction_log_sample_rate", "1")) as server:
        for _ in range(3):
            assert call(f"{server.url}/v1/models/penguins:predict", {"instances": rows})[0] == 200
    records = [json.loads(line) for f in sorted(log_dir.rglob("*.jsonl")) for line in f.read_text().splitlines()]
    assert len(records) == 3 * len(rows)
    first = records[0]
    assert first["model"] == "penguins" and first["model_version"] and first["time"]
    assert set(first["inputs"]) == set(rows[0]) and first["outputs"]["label"] in {"Adelie", "Chinstrap", "Gentoo"}
    assert all(p.parent.parent.name == "penguins" for p in log_dir.rglob("*.jsonl"))


def test_an_unwritable_log_never_fails_a_request(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with LocalServer(penguins_bundle, "penguins", python=SERVING_PYTHON,
                     extra_args=("--prediction_log_uri", str(blocker / "logs"),
                                 "--prediction_log_sample_rate", "1")) as server:
        statuses = [call(f"{server.url}/v1/models/penguins:predict", {"instances": _rows(penguins_splits)})[0]
                    for _ in range(3)]
        time.sleep(2.5)  # let the writer try (and fail) at least once
        metrics = fetch_text(f"{server.url}/metrics")
    assert statuses == [200, 200, 200]
    failures = [line for line in metrics.splitlines() if line.startswith("loopline_prediction_log_failures_total")]
    assert failures and float(failures[0].rsplit(" ", 1)[1]) >= 1
