"""The training pipeline end to end under kfp.local: penguins, a binary label, a numeric label, a stop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from components import keys
from components.lib.bundle import FEATURE_SPEC_FILE, METADATA_FILE, SAVED_MODEL_DIR, read_bundle
from components.lib.registry import Registry

pytestmark = [pytest.mark.slow, pytest.mark.serving]


def _loopline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loopline.cli", *args], capture_output=True, text=True,
                          timeout=900)


def _run_dir(root: Path) -> Path:
    (run,) = [p for p in root.iterdir() if p.is_dir()]
    return run


def _outputs(run: Path, task: str) -> dict:
    return json.loads((run / task / "executor_output.json").read_text())


def evaluate_rows(run: Path) -> int:
    return json.loads((run / "evaluate" / "evaluation" / keys.EVALUATION_FILE).read_text())["candidate"]["count"]


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path, Path]:
    root, registry = tmp_path_factory.mktemp("root"), tmp_path_factory.mktemp("registry")
    proc = _loopline("run", "training", "--floor", "min_accuracy=0.9", "--pipeline-root", str(root),
                     "--registry", str(registry), "--model-repository", str(registry.parent / "models"))
    return proc, _run_dir(root), registry


def test_penguins_trains_evaluates_and_registers(penguins) -> None:
    proc, run, registry = penguins
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "loopline: APPROVED: approved: first model; accuracy" in proc.stdout
    assert f"loopline: registered version 1: {registry}/penguins/versions/1" in proc.stdout
    assert "train: epoch 1/20" in (run / "run.log").read_text(), "train's per-epoch lines are in the run's log"
    assert "  train " in proc.stdout and "20 epochs, best" in proc.stdout
    bundle = run / "train" / "model"
    for name in (SAVED_MODEL_DIR, FEATURE_SPEC_FILE, METADATA_FILE):
        assert (bundle / name).exists()
    spec, metadata = read_bundle(bundle)
    assert spec.classes == ["Adelie", "Chinstrap", "Gentoo"] and metadata["data_hash"].startswith("sha256:")
    assert metadata["run"].startswith("loopline-training-")
    evaluate = _outputs(run, "evaluate")
    assert evaluate["parameterValues"]["approved"] is True
    matrix = evaluate["artifacts"]["classification_metrics"]["artifacts"][0]["metadata"]["confusionMatrix"]
    assert [c["displayName"] for c in matrix["annotationSpecs"]] == spec.classes
    assert sum(sum(r["row"]) for r in matrix["rows"]) == evaluate_rows(run)
    train_metrics = _outputs(run, "train")["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    assert train_metrics["loss_epoch_001"] > train_metrics["loss_epoch_005"]
    version = Registry(str(registry)).version("penguins", 1)
    assert version.info["decision"]["approved"] is True and version.info["metrics"]["accuracy"] >= 0.9
    assert "| island | Biscoe |" in (run / "evaluate-report.md").read_text()


def test_penguins_is_infra_validated_deployed_and_served(penguins) -> None:
    proc, run, registry = penguins
    models = registry.parent / "models"
    assert f"loopline: DEPLOYED: v1 is production; bundle at {models}/penguins" in proc.stdout
    assert _outputs(run, "infra-validate")["parameterValues"]["infra_ok"] is True
    assert Registry(str(registry)).alias("penguins", "production").number == 1
    smoke = _loopline("serve", "--smoke", "--model-repository", str(models))
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
    assert smoke.stdout.count("-> HTTP 200") == 3 and "-> HTTP 400" in smoke.stdout
    assert '"method": "integrated_gradients"' in smoke.stdout
    assert '"label": "' in smoke.stdout and '"name": "probabilities"' in smoke.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data") / "penguins_3k.csv"
    proc = _loopline("generate", "--rows", "3000", "--seed", "5", "--out", str(data))
    assert proc.returncode == 0, proc.stderr
    return data


@pytest.mark.parametrize(("label", "task", "shown"), [("sex", "classification", "accuracy="),
                                                       ("body_mass_g", "regression", "rmse=")])
def test_other_labels_work_by_parameters_only(generated: Path, tmp_path: Path, label: str, task: str,
                                              shown: str) -> None:
    proc = _loopline("run", "training", "--source", str(generated), "--label", label,
                     "--model-name", label.replace("_", "-"),
                     "--epochs", "5", "--pipeline-root", str(tmp_path / "root"), "--registry", str(tmp_path / "reg"),
                     "--model-repository", str(tmp_path / "models"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert shown in proc.stdout
    spec, _ = read_bundle(_run_dir(tmp_path / "root") / "train" / "model")
    assert spec.task == task and label not in spec.names
    if task == "classification":
        assert spec.classes == ["female", "male"]
    else:
        assert spec.label_std > 0 and "species" in spec.names
    assert [v.number for v in Registry(str(tmp_path / "reg")).versions(label.replace("_", "-"))] == [1]


def test_anomalies_stop_the_run_before_training(penguins, tmp_path: Path) -> None:
    _, run, _ = penguins
    data = tmp_path / "unseen.csv"
    assert _loopline("generate", "--rows", "1000", "--out", str(data), "--unseen", "sex=0.2").returncode == 0
    proc = _loopline("run", "training", "--source", str(data), "--schema-uri",
                     str(run / "validate" / "schema" / keys.SCHEMA_FILE), "--pipeline-root", str(tmp_path / "root"),
                     "--registry", str(tmp_path / "reg"), "--model-repository", str(tmp_path / "models"))
    assert proc.returncode == 1
    assert "data NOT OK" in proc.stdout and "sex" in proc.stdout
    stopped = _run_dir(tmp_path / "root")
    assert not (stopped / "train").exists()
    assert Registry(str(tmp_path / "reg")).models() == []
