"""The retrain step: a decision, a cooldown, production's settings, and an audit event for every outcome."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from components.errors import LooplineInputError
from components.lib.registry import Registry
from components.lib.registry_audit import RETRAIN_SKIPPED, RETRAIN_TRIGGERED
from components.retrain.executor import kfp_submitter, retrain, training_arguments
from fakes.kfp_api import FakeKFP
from loopline import cli

MODEL = "penguins"


@pytest.fixture
def registry(penguins_bundle: Path, tmp_path: Path) -> Registry:
    registry = Registry(str(tmp_path / "registry"))
    registry.register(MODEL, penguins_bundle, "run-1", {})
    registry.promote(MODEL, 1, "run-1", "first")
    return registry


def _events(registry: Registry) -> list[tuple[str, str]]:
    return [(e.event, e.reason) for e in registry.events(MODEL) if e.event.startswith("retrain")]


def _retrain(registry: Registry, decision: str = "retrain", at: datetime | None = None, **options: Any):
    return retrain(decision, "drift on 2,000 rows: body_mass_g (psi 0.9 > 0.2)", registry.root, MODEL,
                   "/data/new.csv", target=options.pop("target", "none"), now=at, run_id="monitoring-run", **options)


def test_production_settings_are_reused_and_overrides_win(registry: Registry) -> None:
    arguments = training_arguments(registry, MODEL, "/data/new.csv", {"epochs": 3})
    assert arguments["label_column"] == "species" and arguments["task"] == "classification"
    assert arguments["features"] == ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                     "body_mass_g", "sex", "year"]
    assert arguments["epochs"] == 3 and arguments["early_stopping_patience"] == 8 and arguments["hidden_units"] == 16
    assert (arguments["source"], arguments["registry_uri"], arguments["model_name"]) == (
        "/data/new.csv", registry.root, MODEL)


def test_no_retrain_decision_starts_nothing_and_records_nothing(registry: Registry) -> None:
    for decision in ("ok", "insufficient data"):
        result = _retrain(registry, decision)
        assert not result.triggered and decision in result.reason
    assert _events(registry) == []


def test_the_cooldown_holds_and_each_outcome_is_an_audit_event(registry: Registry) -> None:
    """The audit log's times are real, so "later" is now plus hours."""
    first = _retrain(registry)
    assert first.triggered
    now = datetime.now(timezone.utc)
    second = _retrain(registry, at=now + timedelta(hours=23))
    assert not second.triggered and "within the 24 h cooldown" in second.reason
    third = _retrain(registry, at=now + timedelta(hours=25))
    assert third.triggered
    assert [event for event, _ in _events(registry)] == [RETRAIN_TRIGGERED, RETRAIN_SKIPPED, RETRAIN_TRIGGERED]
    assert "body_mass_g" in _events(registry)[0][1]


def test_bad_targets_and_missing_settings_are_refused(registry: Registry) -> None:
    with pytest.raises(LooplineInputError, match="retrain target must be one of local, kfp, none"):
        _retrain(registry, target="cron")
    with pytest.raises(LooplineInputError, match="needs local_pipeline_root"):
        _retrain(registry, target="local")
    with pytest.raises(LooplineInputError, match="needs a KFP connection"):
        _retrain(registry, target="kfp")


def test_target_kfp_submits_the_uploaded_training_pipeline(registry: Registry, fake_kfp: FakeKFP) -> None:
    """Against the KFP API fake (tests/fakes/kfp_api.py): one run, with production's settings as parameters."""
    assert cli.main(["upload", "training", "--host", fake_kfp.url]) == 0
    submit = kfp_submitter(fake_kfp.url, "", "loopline-training", "loopline")
    result = _retrain(registry, target="kfp", submit=submit)
    assert result.triggered and result.run in fake_kfp.runs
    parameters = fake_kfp.runs[result.run]["runtime_config"]["parameters"]
    assert parameters["source"] == "/data/new.csv" and parameters["label_column"] == "species"
    assert registry.events(MODEL)[-1].details["run"] == result.run
