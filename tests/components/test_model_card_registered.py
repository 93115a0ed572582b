"""The model card of a really trained, evaluated and registered version, for a classification and a regression
model: each section holds this version's own facts (its data hash and rows, its metrics, its features' importance,
the lock files' hashes, the user's intended use, its audit events)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components import keys
from components.evaluate.executor import EvaluateOutputs, evaluate
from components.lib import uri as uri_io
from components.lib.model_card_store import card_uris
from components.lib.provenance import lock_hashes
from components.lib.registry import Registry
from components.register.executor import register
from components.train.executor import train
from components.train.model import Hyperparameters

QUIET = {"log": lambda _: None}
USE = "Sorting <Adelie> & co. on the Palmer islands; not for other species."


def _section(card: str, number: int) -> str:
    """Section `number` of the Markdown card (from its heading to the next one)."""
    return re.split(r"^## \d+\. ", card, flags=re.M)[number]


@pytest.fixture(scope="module", params=["species", "body_mass_g"])
def registered(request: pytest.FixtureRequest, penguins_splits: dict[str, Path],
               tmp_path_factory: pytest.TempPathFactory) -> dict:
    label, out = request.param, tmp_path_factory.mktemp("card")
    bundle = out / "bundle"
    train(penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"], bundle, label,
          hp=Hyperparameters(epochs=20, early_stopping_patience=20), **QUIET,
          provenance={"data_hash": "sha256:" + "ab" * 32, "source_uris": ["data/penguins.csv"]})
    result = evaluate(bundle, penguins_splits["eval"], "", "penguins", {},
                      outputs=EvaluateOutputs(out / "evaluation", out / "report.md"), **QUIET)
    root = str(out / "registry")
    version = register(bundle, out / "evaluation", root, "penguins", "run-7", **QUIET,
                       data_check_dir=penguins_splits["root"] / "validate" / "anomalies", intended_use=USE,
                       environment={"images": {"pipeline": "ghcr.io/x/pipeline:1"}, "lock_hashes": lock_hashes()})
    markdown_uri = card_uris(Registry(root), "penguins", version.number)[1]
    metadata = json.loads((bundle / "metadata.json").read_text())
    return {"label": label, "card": uri_io.read_text(markdown_uri), "evaluation": result, "metadata": metadata,
            "page": uri_io.read_text(card_uris(Registry(root), "penguins", version.number)[0])}


def test_the_model_and_data_sections_hold_this_version_s_facts(registered: dict) -> None:
    card, metadata = registered["card"], registered["metadata"]
    model, data = _section(card, 1), _section(card, 2)
    task = "regression" if registered["label"] == "body_mass_g" else "classification"
    assert f"- **Task:** {task}" in model and f"- **Label:** `{registered['label']}`" in model
    assert all(f"| `{name}` |" in model for name in metadata["features"])
    assert f"| `learning_rate` | {metadata['parameters']['learning_rate']:g} |" in model
    assert "`data/penguins.csv`" in data and f"`{metadata['data_hash']}`" in data
    assert f"- **Training rows:** {metadata['train_rows']:,}" in data
    assert f"- **Evaluation rows:** {registered['evaluation'].candidate['count']:,}" in data
    assert "data OK" in data and "No anomalies were found." in data


def test_the_evaluation_shows_its_metrics_and_the_explanations_every_feature(registered: dict) -> None:
    card, candidate = registered["card"], registered["evaluation"].candidate
    evaluation, explanations = _section(card, 3), _section(card, 4)
    if registered["label"] == "species":
        assert f"| accuracy | {candidate['accuracy']:.4g} |" in evaluation and "### Confusion matrix" in evaluation
        assert "| Adelie |" in evaluation or "| **Adelie** |" in evaluation
    else:
        assert f"| RMSE | {candidate['rmse']:.4g} |" in evaluation and "### Confusion matrix" not in evaluation
    assert "judged as a first model" in evaluation
    importance = registered["evaluation"].feature_importance["features"]
    assert set(importance) == set(registered["metadata"]["features"])
    assert all(f"| `{name}` |" in explanations for name in importance)
    target = "predicted value" if registered["label"] == "body_mass_g" else "probability of the predicted class"
    assert f"- **Target:** {target}" in explanations


def test_environment_intended_use_and_lifecycle(registered: dict) -> None:
    card, page = registered["card"], registered["page"]
    environment, use, lifecycle = _section(card, 5), _section(card, 6), _section(card, 7)
    for name, digest in lock_hashes().items():
        assert f"| `{name}` | `{digest}` |" in environment
    assert "ghcr.io/x/pipeline:1" in environment
    assert "&lt;Adelie&gt; &amp; co." in use and "Sorting &lt;Adelie&gt; &amp; co." in page  # escaped, not markup
    assert [e for e in ("registered", "evaluated", "approved") if f"**{e}**" in lifecycle] == [
        "registered", "evaluated", "approved"]
    assert keys.EVALUATION_FILE not in page  # nothing of the run's file layout leaks into the card
