"""`loopline run monitoring` under kfp.local: shifted served traffic -> monitor says retrain -> the training
pipeline runs on new labelled data from that world -> a new version meets the gates."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from components.lib.registry import PRODUCTION, Registry
from support.traffic import draw, write_log

pytestmark = [pytest.mark.slow, pytest.mark.serving]  # the training run it starts infra-validates
START = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)


def _loopline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loopline.cli", *args], capture_output=True, text=True, timeout=900)


def test_drift_starts_a_retraining_run_that_goes_through_the_gates(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    registry = Registry(str(tmp_path / "registry"))
    registry.register("penguins", penguins_bundle, "run-1", {})
    registry.promote("penguins", 1, "run-1", "first")
    scorer = BundleModel(penguins_bundle)
    rows = pa.concat_tables([pq.read_table(parquet_files(penguins_splits[s])[0], columns=scorer.spec.names)
                             for s in ("train", "eval")])
    write_log(str(tmp_path / "log"), draw(rows, 1500, seed=1, shift=1200.0), scorer, START + timedelta(minutes=5))
    new_data = tmp_path / "shifted.csv"
    generated = _loopline("generate", "--rows", "1500", "--out", str(new_data), "--shift", "body_mass_g=1200")
    assert generated.returncode == 0, generated.stderr
    proc = _loopline("run", "monitoring", "--prediction-log", str(tmp_path / "log"), "--registry", registry.root,
                     "--since", START.isoformat(), "--until", (START + timedelta(hours=1)).isoformat(),
                     "--retrain-source", str(new_data), "--local-pipeline-root", str(tmp_path / "retrain-root"),
                     "--override", "epochs=5", "--pipeline-root", str(tmp_path / "root"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any(line.split()[:1] == ["monitor"] and "retrain: drift on 1,500 rows" in line and "body_mass_g" in line
               for line in lines), proc.stdout
    assert any(line.split()[:1] == ["retrain"] and "training started (local)" in line for line in lines), proc.stdout
    events = registry.events("penguins")
    assert events[-1].event == "retrain_triggered" and "body_mass_g" in events[-1].reason
    assert [v.number for v in registry.versions("penguins")] == [1, 2]
    outcome = [e.event for e in events if e.version == 2 and e.event in ("deployed", "skipped")]
    assert len(outcome) == 1, events  # the new version met the gates: deployed, or refused with a reason
    assert (registry.alias("penguins", PRODUCTION).number == 2) is (outcome == ["deployed"])
