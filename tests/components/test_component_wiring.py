"""Each component's contract called as KFP calls it: `dsl` artifacts on a temp folder, parameters by name.

The chain ingest -> validate -> train -> evaluate -> register -> deploy runs on penguins with two
epochs; each test checks what the contract puts on its artifacts and returns, not the executor's
logic (its own tests do that). infra_validate is called on a folder that is not a bundle: the
wiring of its decision is what is checked here without the serving server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl

from components import keys
from components._image import Images
from components.catalog import CONTRACTS, build
from components.lib.registry import Registry

RUN_ID = "wiring-test-run"


def _artifact(kind: type, folder: Path, name: str, metadata: dict[str, Any] | None = None) -> Any:
    return kind(name=name, uri=str(folder / name), metadata=dict(metadata or {}))


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, penguins_csv: Path) -> dict[str, Any]:
    """Run the contracts in pipeline order once; every artifact and returned value, by name."""
    from components.deploy.component import deploy
    from components.evaluate.component import evaluate
    from components.ingest.component import ingest
    from components.register.component import register
    from components.train.component import train
    from components.validate.component import validate

    root = tmp_path_factory.mktemp("wiring")
    a: dict[str, Any] = {name: _artifact(dsl.Dataset, root, name) for name in (keys.TRAIN, keys.EVAL)}
    ingest(source=str(penguins_csv), label_column="species", train=a[keys.TRAIN], eval=a[keys.EVAL])
    for name in (keys.STATISTICS, keys.SCHEMA, keys.ANOMALIES):
        a[name] = _artifact(dsl.Artifact, root, name)
    a["validate_html"], a["validate_md"] = _artifact(dsl.HTML, root, "v.html"), _artifact(dsl.Markdown, root, "v.md")
    a["validated"] = validate(train=a[keys.TRAIN], eval=a[keys.EVAL], statistics=a[keys.STATISTICS],
                              schema=a[keys.SCHEMA], anomalies=a[keys.ANOMALIES], report_html=a["validate_html"],
                              report_markdown=a["validate_md"])
    a[keys.MODEL], a["train_metrics"] = _artifact(dsl.Model, root, keys.MODEL), _artifact(dsl.Metrics, root, "tm")
    a["train_md"] = _artifact(dsl.Markdown, root, "t.md")
    train(train=a[keys.TRAIN], eval=a[keys.EVAL], schema=a[keys.SCHEMA], statistics=a[keys.STATISTICS],
          model=a[keys.MODEL], metrics=a["train_metrics"], report_markdown=a["train_md"], label_column="species",
          epochs=2, early_stopping_patience=2, run_id=RUN_ID)
    registry = str(root / "registry")
    a["eval_metrics"], a["curves"] = _artifact(dsl.Metrics, root, "em"), _artifact(dsl.ClassificationMetrics, root, "c")
    a[keys.EVALUATION], a["evaluate_md"] = _artifact(dsl.Artifact, root, keys.EVALUATION), _artifact(dsl.Markdown,
                                                                                                       root, "e.md")
    a["judged"] = evaluate(model=a[keys.MODEL], eval=a[keys.EVAL], metrics=a["eval_metrics"],
                           classification_metrics=a["curves"], evaluation=a[keys.EVALUATION],
                           report_markdown=a["evaluate_md"], registry_uri=registry, model_name="penguins")
    a["card_html"], a["card_md"] = _artifact(dsl.HTML, root, "card.html"), _artifact(dsl.Markdown, root, "card.md")
    a["registered"] = register(model=a[keys.MODEL], evaluation=a[keys.EVALUATION], anomalies=a[keys.ANOMALIES],
                               model_card_html=a["card_html"], model_card_markdown=a["card_md"], registry_uri=registry,
                               model_name="penguins", intended_use="Sorting penguins of three species; not others.",
                               environment={"images": {"pipeline": "registry.test/pipeline:1"}}, run_id=RUN_ID)
    a[keys.INFERENCE_SERVICE] = _artifact(dsl.Artifact, root, keys.INFERENCE_SERVICE)
    a["deployed"] = deploy(registry_uri=registry, model_name="penguins", version=a["registered"].version,
                           approved=a["judged"].approved, approval_reason=a["judged"].reason, infra_ok=True,
                           infra_reason="checked elsewhere", inference_service=a[keys.INFERENCE_SERVICE],
                           model_repository=str(root / "models"), run_id=RUN_ID)
    a["root"] = root
    return a


def test_every_contract_builds_as_a_kfp_component_in_its_image() -> None:
    """The catalogue binds each contract to its image; infra-validate alone runs in the serving image."""
    images = Images(pipeline="registry.test/pipeline:1", serving="registry.test/serving:1")
    built = build(images)
    for name, (func, image) in CONTRACTS.items():
        component = getattr(built, name)
        assert component.python_func is func
        expected = images.serving if name == "infra_validate" else images.pipeline
        assert component.component_spec.implementation.container.image == expected, name


def test_ingest_writes_both_splits_with_their_metadata(chain: dict[str, Any]) -> None:
    for split in keys.SPLITS:
        assert (Path(chain[split].path) / keys.DATA_FILE).exists()
        assert chain[split].metadata["split"] == split and chain[split].metadata["content_hash"]
    assert chain[keys.TRAIN].metadata["num_rows"] + chain[keys.EVAL].metadata["num_rows"] == 344


def test_validate_returns_the_decision_and_records_it_on_anomalies(chain: dict[str, Any]) -> None:
    assert chain["validated"].data_ok is True
    assert chain[keys.ANOMALIES].metadata["data_ok"] is True and chain[keys.ANOMALIES].metadata["reason"]
    assert (Path(chain[keys.SCHEMA].path) / keys.SCHEMA_FILE).exists()
    assert Path(chain["validate_html"].path).read_text().startswith("<!DOCTYPE html>")


def test_train_logs_per_epoch_metrics_and_marks_the_model(chain: dict[str, Any]) -> None:
    assert chain[keys.MODEL].metadata["framework"] == "tensorflow"
    assert chain[keys.MODEL].metadata["task"] == "classification"
    logged = chain["train_metrics"].metadata
    assert {"loss_epoch_001", "loss_epoch_002", "val_loss_epoch_002"} <= set(logged)
    metadata = json.loads((Path(chain[keys.MODEL].path) / "metadata.json").read_text())
    assert metadata["run"] == RUN_ID and metadata["parameters"]["epochs"] == 2
    report = Path(chain["train_md"].path).read_text()  # the data report: a row per column of the penguins
    assert all(f"| {column} |" in report for column in (*metadata["features"], "species"))
    baseline = Path(chain[keys.MODEL].path) / "baseline"
    statistics = Path(chain[keys.STATISTICS].path) / "train.stats.pb"
    assert (baseline / "train.stats.pb").read_bytes() == statistics.read_bytes()


def test_evaluate_logs_metrics_confusion_matrix_roc_and_writes_its_files(chain: dict[str, Any]) -> None:
    assert chain["judged"].approved is True and "first model" in chain["judged"].reason
    assert 0 <= chain["eval_metrics"].metadata["accuracy"] <= 1
    curves = chain["curves"].metadata
    assert curves["confusionMatrix"]["annotationSpecs"] and curves["confidenceMetrics"] and curves["roc_class"]
    written = json.loads((Path(chain[keys.EVALUATION].path) / keys.EVALUATION_FILE).read_text())
    assert written["decision"]["approved"] is True and chain[keys.EVALUATION].metadata["approved"] is True
    assert Path(chain["evaluate_md"].path).read_text().startswith("# Evaluation")


def test_register_and_deploy_return_the_version_and_the_deployment(chain: dict[str, Any]) -> None:
    assert chain["registered"].version == 1 and chain["registered"].uri.endswith("/penguins/versions/1")
    assert chain["deployed"].deployed is True, chain["deployed"].reason
    assert (chain["root"] / "models" / "penguins" / "feature_spec.json").exists()
    assert "kind: InferenceService" in Path(chain[keys.INFERENCE_SERVICE].path).read_text()


def test_register_keeps_what_the_card_shows_and_writes_the_card(chain: dict[str, Any]) -> None:
    info = Registry(str(chain["root"] / "registry")).registration("penguins", 1)["info"]
    data = info["data"]
    assert data["validation"]["data_ok"] is True and data["train_rows"] + data["eval_rows"] > 300
    assert data["data_hash"] == chain[keys.TRAIN].metadata["content_hash"]
    assert info["evaluation"]["decision"]["approved"] is True and info["evaluation"]["candidate"]["roc_curves"] is None
    assert info["environment"]["images"] == {"pipeline": "registry.test/pipeline:1"}
    assert info["intended_use"].startswith("Sorting penguins") and info["trigger"] is None
    page, markdown = Path(chain["card_html"].path).read_text(), Path(chain["card_md"].path).read_text()
    assert page.startswith("<!DOCTYPE html>") and "Sorting penguins of three species" in page
    assert "Sorting penguins of three species" in markdown and "registry.test/pipeline:1" in markdown


def test_infra_validate_records_a_candidate_that_does_not_load(chain: dict[str, Any], tmp_path: Path) -> None:
    from components.infra_validate.component import infra_validate

    decision = infra_validate(model=_artifact(dsl.Model, tmp_path, "not-a-bundle"), eval=chain[keys.EVAL],
                              golden_rows=4)
    assert decision.infra_ok is False and decision.reason.startswith("the candidate does not load or run")
