"""evaluate's global feature importance (mean |integrated-gradients attribution| over the labelled eval rows),
and the attribution function it shares with the predictor's :explain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tensorflow as tf

from components import keys
from components.evaluate import executor
from components.evaluate.executor import EvaluateOutputs, evaluate
from components.lib.arrays import feature_arrays
from components.lib.bundle import SAVED_MODEL_DIR, SIGNATURE
from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from support.synthetic_bundle import train_on

QUIET = {"log": lambda _: None}


def _eval_table(eval_dir: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in parquet_files(eval_dir)])


def test_penguins_importance_covers_every_feature(penguins_bundle: Path, penguins_splits: dict[str, Path],
                                                   tmp_path: Path) -> None:
    outputs = EvaluateOutputs(tmp_path / "evaluation", tmp_path / "report.md")
    result = evaluate(penguins_bundle, penguins_splits["eval"], outputs=outputs, **QUIET)
    importance = result.feature_importance
    spec = BundleModel(penguins_bundle).spec
    assert importance["method"] == "mean absolute integrated-gradients attribution"
    assert importance["target"] == "probability of the predicted class"
    assert importance["steps"] == 64 and importance["rows"] == result.candidate["count"]
    values = importance["features"]
    assert set(values) == set(spec.names)
    assert all(v >= 0 for v in values.values()) and max(values.values()) > 0, values
    assert list(values.values()) == sorted(values.values(), reverse=True)  # largest first
    written = json.loads((outputs.evaluation_dir / keys.EVALUATION_FILE).read_text())
    assert written["feature_importance"] == importance
    report = outputs.report_path.read_text()
    top = next(iter(values))
    assert "# Feature importance" in report and f"| {top} |" in report


def test_attributions_are_complete_and_match_the_predictions(penguins_bundle: Path,
                                                             penguins_splits: dict[str, Path]) -> None:
    """Completeness of integrated gradients: per row, the attributions add up to prediction - baseline."""
    model = BundleModel(penguins_bundle)
    arrays = feature_arrays(_eval_table(penguins_splits["eval"]), model.spec)
    found = model.attribute_arrays(arrays)
    np.testing.assert_allclose(found.outputs, model.predict_arrays(arrays), atol=1e-5)
    assert found.names == model.spec.names and found.per_feature.shape == (len(found.outputs), len(found.names))
    gap = found.predictions - found.baseline_predictions - found.per_feature.sum(axis=1)
    assert np.abs(gap).max() < 0.02, gap


def test_importance_is_the_same_in_chunks(penguins_bundle: Path, penguins_splits: dict[str, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    model = BundleModel(penguins_bundle)
    rows = _eval_table(penguins_splits["eval"])
    whole = executor.feature_importance(model, rows)
    monkeypatch.setattr(executor, "IMPORTANCE_CHUNK", 7)
    monkeypatch.setattr(executor, "IMPORTANCE_ROWS", 40)
    chunked = executor.feature_importance(model, rows)
    monkeypatch.setattr(executor, "IMPORTANCE_CHUNK", 40)
    at_once = executor.feature_importance(model, rows)
    assert chunked["rows"] == 40 and whole["rows"] == rows.num_rows
    assert chunked["features"].keys() == at_once["features"].keys()
    np.testing.assert_allclose(list(chunked["features"].values()), list(at_once["features"].values()), rtol=1e-5)


def test_a_bundle_without_explanation_signatures_gets_a_note(penguins_bundle: Path,
                                                             penguins_splits: dict[str, Path],
                                                             tmp_path: Path) -> None:
    """A bundle from before the encode/head signatures: evaluated as before, no importance, a note saying why."""
    old = tmp_path / "old"
    shutil.copytree(penguins_bundle, old, ignore=shutil.ignore_patterns(SAVED_MODEL_DIR))
    loaded = tf.saved_model.load(str(penguins_bundle / SAVED_MODEL_DIR))
    tf.saved_model.save(loaded, str(old / SAVED_MODEL_DIR), signatures={SIGNATURE: loaded.signatures[SIGNATURE]})
    assert not BundleModel(old).explains
    result = evaluate(old, penguins_splits["eval"], **QUIET)
    assert result.feature_importance is None and result.candidate["accuracy"] > 0.5
    assert any("no feature importance" in note for note in result.notes)
    assert json.loads(result.to_json())["feature_importance"] is None


def test_a_noise_feature_is_far_less_important_than_the_signal(tmp_path: Path) -> None:
    """Behaviour: y = 3 x1 + small noise, x2 drawn independently of y: x1's importance is many times x2's.
    Measured over data seeds 0-13 (600 rows, ~120 eval rows, 8 epochs): x1 2.3-2.8, x2 0.10-0.15, a ratio
    of 16 to 24, so the 3x margin holds with room to spare; x2 is not 0 because the model fits a little noise."""
    rng = np.random.default_rng(3)
    n = 600
    x1, x2 = rng.normal(size=n).round(3), rng.normal(size=n).round(3)
    data = pa.table({"x1": x1, "x2": x2, "y": (3 * x1 + rng.normal(scale=0.1, size=n)).round(3)})
    bundle = train_on(data, "y", tmp_path)
    importance = evaluate(bundle, tmp_path / "eval", **QUIET).feature_importance
    assert importance["target"] == "predicted value"
    values = importance["features"]
    assert list(values) == ["x1", "x2"], values
    assert values["x1"] > 3 * values["x2"], values

