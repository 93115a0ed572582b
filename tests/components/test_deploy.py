"""infra_validate and deploy: the real predictor on the candidate, and gates that change nothing when shut."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from components.deploy.executor import deploy
from components.infra_validate.executor import infra_validate
from components.lib.bundle import FEATURE_SPEC_FILE, SAVED_MODEL_DIR
from components.lib.registry import PRODUCTION, Registry
from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)
QUIET = {"log": lambda _: None}

pytestmark = pytest.mark.serving


def test_infra_validation_passes_a_good_bundle(penguins_bundle: Path, penguins_splits: dict[str, Path]) -> None:
    result = infra_validate(penguins_bundle, penguins_splits["eval"], rows=8, python=SERVING_PYTHON, **QUIET)
    assert result.ok, result.reason
    assert "served 8 golden rows" in result.reason


def test_infra_validation_blocks_a_bundle_that_does_not_load(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(penguins_bundle, broken)
    (broken / SAVED_MODEL_DIR / "variables" / "variables.index").write_bytes(b"corrupt")
    result = infra_validate(broken, penguins_splits["eval"], rows=4, python=SERVING_PYTHON, **QUIET)
    assert not result.ok
    assert "does not load or run" in result.reason


def test_infra_validation_blocks_when_the_predictor_cannot_start(
    penguins_bundle: Path, penguins_splits: dict[str, Path]
) -> None:
    """The pipeline env has no kserve: started from it, the predictor exits (a wrong image, say)."""
    result = infra_validate(penguins_bundle, penguins_splits["eval"], rows=4, python=sys.executable, **QUIET)
    assert not result.ok
    assert "could not serve the candidate" in result.reason and "exited" in result.reason


@pytest.fixture()
def registered(penguins_bundle: Path, tmp_path: Path) -> tuple[Registry, str]:
    uri = str(tmp_path / "registry")
    registry = Registry(uri)
    for run in ("run-1", "run-2"):
        registry.register("penguins", penguins_bundle, run, {"metrics": {}})
    return registry, uri


def test_not_approved_deploys_nothing_and_records_why(registered, tmp_path: Path) -> None:
    registry, uri = registered
    result = deploy(uri, "penguins", 1, False, "rejected: accuracy 0.5 < floor 0.9", True, "ok",
                    tmp_path / "models", "run-1", **QUIET)
    assert not result.deployed and "not approved" in result.reason
    assert registry.alias("penguins", PRODUCTION) is None
    assert not (tmp_path / "models").exists()
    assert [(e.event, e.version) for e in registry.events("penguins")][-1] == ("skipped", 1)


def test_failed_infra_validation_promotes_nothing(registered, tmp_path: Path) -> None:
    registry, uri = registered
    result = deploy(uri, "penguins", 1, True, "approved", False, "the predictor could not serve the candidate",
                    tmp_path / "models", "run-1", **QUIET)
    assert not result.deployed and "infra validation failed" in result.reason
    assert registry.alias("penguins", PRODUCTION) is None and not (tmp_path / "models").exists()


def test_deploy_promotes_places_and_replaces_whole(registered, tmp_path: Path) -> None:
    registry, uri = registered
    models = tmp_path / "models"
    first = deploy(uri, "penguins", 1, True, "approved", True, "ok", models, "run-1", **QUIET)
    assert first.deployed and registry.alias("penguins", PRODUCTION).number == 1
    assert (models / "penguins" / FEATURE_SPEC_FILE).exists()
    (models / "penguins" / "marker-of-v1").write_text("old")
    second = deploy(uri, "penguins", 2, True, "approved", True, "ok", models, "run-2", **QUIET)
    assert second.deployed and registry.alias("penguins", PRODUCTION).number == 2
    assert registry.alias("penguins", "previous").number == 1
    assert not (models / "penguins" / "marker-of-v1").exists()
    assert sorted(p.name for p in models.iterdir()) == ["penguins"]


def test_deploy_writes_the_inference_service_for_the_version(registered, tmp_path: Path) -> None:
    """Whatever the target (or a skip), the deploy step leaves the InferenceService it would apply."""
    import yaml

    registry, uri = registered
    for approved, path in ((False, tmp_path / "skipped.yaml"), (True, tmp_path / "deployed.yaml")):
        deploy(uri, "penguins", 2, approved, "reason", True, "ok", "", "run-2", service_file=path, **QUIET)
        text = path.read_text()
        assert text.startswith("# penguins v2: what deploy_target=kserve applies (this run's target: local)")
        service = yaml.safe_load(text)
        assert service["kind"] == "InferenceService"
        assert service["spec"]["predictor"]["model"]["storageUri"] == registry.version("penguins", 2).uri


@pytest.mark.parametrize(("verdict", "canary", "deployed"), [("promote", "2", True), ("roll back", "2", False),
                                                             ("hold", "2", False), ("promote", "3", False)])
def test_a_canary_deploys_in_full_only_on_its_promote_verdict(registered, tmp_path: Path, verdict: str, canary: str,
                                                              deployed: bool) -> None:
    """deploy with a monitor step's result: the verdict is a third gate, and a blocked deploy changes nothing."""
    registry, uri = registered
    models = tmp_path / "models"
    assert deploy(uri, "penguins", 1, True, "approved", True, "ok", models, "run-1", **QUIET).deployed
    monitoring = tmp_path / "monitoring"
    monitoring.mkdir()
    (monitoring / "monitoring.json").write_text(json.dumps({"canary": {
        "canary": canary, "stable": "1", "verdict": verdict, "reason": f"v{canary} vs v1: lead -0.100"}}))
    result = deploy(uri, "penguins", 2, True, "approved", True, "ok", models, "run-2", monitoring_uri=str(monitoring),
                    **QUIET)
    assert result.deployed is deployed and registry.alias("penguins", PRODUCTION).number == (2 if deployed else 1)
    if not deployed:
        assert registry.events("penguins")[-1].event == "skipped"
        assert (f"canary verdict {verdict}" if canary == "2" else "no canary verdict for v2") in result.reason
