"""train: the model builder, learning, determinism, missing values, and the bundle in both envs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import keras
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.errors import LooplineInputError
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, NUMERIC, REGRESSION, Feature, FeatureSpec, read_bundle
from components.lib.inference import BundleModel
from components.train.executor import train
from components.train.model import Hyperparameters, build_model
from loopline import paths

ROOT = paths.ROOT
FAST = Hyperparameters(epochs=8, early_stopping_patience=8)


def _two_feature_spec() -> FeatureSpec:
    return FeatureSpec(
        label="kind",
        task=CLASSIFICATION,
        features=[
            Feature("size", NUMERIC, "float", min=0.0, max=10.0, mean=5.0, std=2.0),
            Feature("colour", CATEGORICAL, "string", vocabulary=["red", "blue"]),
        ],
        classes=["a", "b", "c"],
    )


def test_builder_takes_raw_named_inputs_and_holds_its_preprocessing() -> None:
    model = build_model(_two_feature_spec(), Hyperparameters(hidden_units=4))
    assert {k: v.dtype for k, v in model.input.items()} == {"size": "float32", "colour": "string"}
    assert any(isinstance(layer, keras.layers.StringLookup) for layer in model.layers)
    out = model({"size": np.array([1.0, np.nan], np.float32), "colour": np.array(["red", "never-seen"])})
    probabilities = np.asarray(out)
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(probabilities).all()


def test_builder_regression_outputs_one_value_in_label_units() -> None:
    spec = FeatureSpec("mass", REGRESSION, [Feature("size", NUMERIC, "float", mean=0.0, std=1.0)],
                       label_mean=4000.0, label_std=800.0)
    out = np.asarray(build_model(spec, Hyperparameters(hidden_units=4))({"size": np.zeros(5, np.float32)}))
    assert out.shape == (5,)
    assert 4000 - 5 * 800 < out.mean() < 4000 + 5 * 800


@pytest.fixture(scope="module")
def trained(penguins_splits: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("trained")
    first = train(penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"], out / "a",
                  "species", hp=FAST, log=lambda _: None)
    again = train(penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"], out / "b",
                  "species", hp=FAST, log=lambda _: None)
    return first, again


def test_loss_falls_in_two_epochs(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    result = train(penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"], tmp_path / "m",
                   "species", hp=Hyperparameters(epochs=2, early_stopping_patience=2), log=lambda _: None)
    assert len(result.history["loss"]) == 2
    assert result.history["loss"][1] < result.history["loss"][0]


def test_bundle_holds_model_contract_and_provenance(trained) -> None:
    result, _ = trained
    spec, metadata = read_bundle(result.bundle_dir)
    assert spec.task == CLASSIFICATION and spec.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert "species" not in spec.names and {"island", "bill_length_mm", "sex"} <= set(spec.names)
    island = next(f for f in spec.features if f.name == "island")
    assert island.kind == CATEGORICAL and sorted(island.vocabulary) == ["Biscoe", "Dream", "Torgersen"]
    mass = next(f for f in spec.features if f.name == "body_mass_g")
    assert mass.kind == NUMERIC and 2500 < mass.min < mass.mean < mass.max < 6500
    assert metadata["parameters"]["epochs"] == 8 and metadata["environment_hash"].startswith("sha256:")
    assert metadata["metrics"]["val_accuracy"] > 0.9
    assert len(metadata["history"]["loss"]) == metadata["epochs_run"]


def test_same_seed_gives_the_same_predictions(trained, penguins_splits: dict[str, Path]) -> None:
    first, again = trained
    table = pq.read_table(next(penguins_splits["eval"].glob("*.parquet")))
    np.testing.assert_array_equal(BundleModel(first.bundle_dir).predict([table]),
                                  BundleModel(again.bundle_dir).predict([table]))


def test_missing_and_unseen_values_still_predict(trained) -> None:
    model = BundleModel(trained[0].bundle_dir)
    row = {f.name: [None] for f in model.spec.features}
    row["island"] = ["Atlantis"]
    table = pa.table({**row, "bill_length_mm": pa.array([None], pa.float64())})
    probabilities = model.predict([table])
    assert probabilities.shape == (1, 3) and np.isfinite(probabilities).all()


@pytest.mark.serving
def test_bundle_predicts_the_same_in_the_serving_env(trained, penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    bundle = trained[0].bundle_dir
    table = pq.read_table(next(penguins_splits["eval"].glob("*.parquet")))
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({name: table.column(name).to_pylist() for name in BundleModel(bundle).spec.names}))
    proc = subprocess.run(
        [str(paths.SERVING_PYTHON), str(ROOT / "tests" / "kserve" / "bundle_predict.py"),
         str(bundle), str(inputs)],
        capture_output=True, text=True, timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    served = np.array(json.loads(proc.stdout.strip().splitlines()[-1])["probabilities"])
    here = BundleModel(bundle).predict([table])
    assert served.shape == here.shape == (table.num_rows, 3)
    np.testing.assert_allclose(served, here, atol=1e-5)


def test_refusals_name_the_problem(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    args = (penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"])
    with pytest.raises(LooplineInputError, match=r"label: \['kind'\] not in the schema"):
        train(*args, tmp_path / "a", "kind", hp=FAST, log=lambda _: None)
    with pytest.raises(LooplineInputError, match=r"features: \['wings'\] not in the schema"):
        train(*args, tmp_path / "b", "species", features=["wings"], hp=FAST, log=lambda _: None)
    with pytest.raises(LooplineInputError, match="task must be one of"):
        train(*args, tmp_path / "c", "species", task="ranking", hp=FAST, log=lambda _: None)
    assert not any((tmp_path / n).exists() for n in "abc")
