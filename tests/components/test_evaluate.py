"""evaluate + register: the gate against the registry's production model, decisions as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components import keys
from components.evaluate.executor import evaluate
from components.evaluate.report import report_markdown
from components.lib.registry import PRODUCTION, Registry
from components.register.executor import register
from components.train.executor import train
from components.train.model import Hyperparameters

QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def models(penguins_splits: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A good model (all features) and a worse one (only `year`, which says little about species)."""
    out = tmp_path_factory.mktemp("models")
    args = (penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"])
    train(*args, out / "good", "species", hp=Hyperparameters(epochs=10, early_stopping_patience=10), **QUIET)
    train(*args, out / "worse", "species", features=["year"], hp=Hyperparameters(epochs=3), **QUIET)
    return {"good": out / "good", "worse": out / "worse"}


def _write_evaluation(result, folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / keys.EVALUATION_FILE).write_text(result.to_json())
    return folder


def test_first_model_is_approved_with_every_metric(models, penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    result = evaluate(models["good"], penguins_splits["eval"], str(tmp_path / "registry"), "penguins",
                      {"min_accuracy": 0.9}, 0.01, **QUIET)
    assert result.decision.approved, result.decision.reason
    assert "first model" in result.decision.reason
    assert result.candidate["accuracy"] >= 0.9 and result.production is None
    assert len(result.candidate["confusion_matrix"]) == 3
    assert {row["column"] for row in result.slices} == {"(overall)", "island", "sex"}
    name, curve = result.roc_curve()
    assert name in result.classes and curve["fpr"][0] == 0.0 and curve["tpr"][-1] == 1.0
    report = report_markdown(result)
    assert "**Approved**" in report and "| island | Biscoe |" in report


def _production(bundle: Path, eval_dir: Path, tmp_path: Path, tolerance: float) -> tuple[str, Any, Any]:
    """A registry whose production is `bundle`, evaluated first: (registry URI, evaluation, version)."""
    registry_uri = str(tmp_path / "registry")
    evaluation = evaluate(bundle, eval_dir, registry_uri, "penguins", {}, tolerance, **QUIET)
    version = register(bundle, _write_evaluation(evaluation, tmp_path / "e1"), registry_uri, "penguins", "run-1",
                       **QUIET)
    Registry(registry_uri).promote("penguins", version.number, "run-1", "first model")
    return registry_uri, evaluation, version


def test_a_worse_candidate_is_rejected_and_production_is_unchanged(
    models, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    registry_uri, good, first = _production(models["good"], penguins_splits["eval"], tmp_path, 0.01)

    worse = evaluate(models["worse"], penguins_splits["eval"], registry_uri, "penguins", {}, 0.01, **QUIET)
    assert not worse.decision.approved
    assert worse.production_version == first.number
    assert "below production v1" in worse.decision.reason and "accuracy" in worse.decision.reason
    assert worse.production["accuracy"] == pytest.approx(good.candidate["accuracy"])

    second = register(models["worse"], _write_evaluation(worse, tmp_path / "e2"), registry_uri, "penguins",
                      "run-2", **QUIET)
    registry = Registry(registry_uri)
    assert second.number == 2
    assert registry.alias("penguins", PRODUCTION).number == first.number
    events = [(e.event, e.version) for e in registry.events("penguins")]
    assert ("rejected", 2) in events and ("approved", 1) in events
    assert registry.version("penguins", 2).info["decision"]["approved"] is False


def test_the_same_candidate_passes_against_itself_within_tolerance(
    models, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    registry_uri, _, _ = _production(models["good"], penguins_splits["eval"], tmp_path, 0.0)
    again = evaluate(models["good"], penguins_splits["eval"], registry_uri, "penguins", {}, 0.0, **QUIET)
    assert again.decision.approved and again.production_version == 1
    saved = json.loads(again.to_json())
    assert saved["decision"]["approved"] is True and saved["production"]["accuracy"] == again.candidate["accuracy"]


def test_a_floor_the_candidate_misses_rejects_it(models, penguins_splits: dict[str, Path]) -> None:
    result = evaluate(models["worse"], penguins_splits["eval"], "", "", {"min_accuracy": 0.95}, 0.01, **QUIET)
    assert not result.decision.approved
    assert "< floor 0.95" in result.decision.reason
