"""`loopline run monitoring` under kfp.local: shifted served traffic -> monitor says retrain -> the training
pipeline runs on new labelled data from that world -> a new version meets the gates."""

from __future__ import annotations

import json
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
                     "--override", "epochs=5", "--approval", "manual", "--pipeline-root", str(tmp_path / "root"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any(line.split()[:1] == ["monitor"] and "retrain: drift on 1,500 rows" in line and "body_mass_g" in line
               for line in lines), proc.stdout
    assert any(line.split()[:1] == ["retrain"] and "training started (local)" in line for line in lines), proc.stdout
    events = registry.events("penguins")
    assert events[-1].event == "retrain_triggered" and "body_mass_g" in events[-1].reason
    assert [v.number for v in registry.versions("penguins")] == [1, 2]
    outcome = [e.event for e in events if e.version == 2 and e.event in ("deployed", "skipped", "pending_approval")]
    assert outcome in (["pending_approval"], ["skipped"]), events  # manual: met the gates and waits, or refused
    assert registry.alias("penguins", PRODUCTION).number == 1  # nothing deployed without a person

    window = f"{START.isoformat()} .. {(START + timedelta(hours=1)).isoformat()}"
    shown = _loopline("models", "lineage", "penguins", "2", "--registry", registry.root)
    assert shown.returncode == 0, shown.stderr
    trigger = next(line for line in shown.stdout.splitlines() if line.strip().startswith("trigger"))
    assert f"window {window} (1,500 rows, v1)" in trigger and "body_mass_g" in trigger, shown.stdout
    chain = json.loads(_loopline("models", "lineage", "penguins", "2", "--registry", registry.root, "--json").stdout)
    assert chain["trigger"]["window"]["details"]["window"] == window
    assert chain["trigger"]["retraining"]["event"] == "retrain_triggered"
    card = Path(registry.root, "penguins", "cards", "2", "model-card.md").read_text()
    assert window in card and "body_mass_g" in card  # the card names what triggered the version
    if outcome == ["pending_approval"]:
        approved = _loopline("models", "approve", "penguins", "2", "--registry", registry.root, "--by", "Ada",
                             "--reason", "drift explained; v2 reviewed", "--model-repository", str(tmp_path / "models"))
        assert approved.returncode == 0, approved.stderr
        assert registry.alias("penguins", PRODUCTION).number == 2
        assert (tmp_path / "models" / "penguins" / "feature_spec.json").is_file()
