"""Column names are the user's: a data set whose every column name is awkward trains, predicts, serves and explains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from components import keys
from components.ingest.executor import ingest
from components.lib.bundle import SAFE_NAME, input_names
from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from components.lib.serving import LocalServer, call
from components.train.executor import train
from components.train.model import Hyperparameters
from components.validate.executor import ValidateOutputs, validate
from loopline import paths

QUIET = {"log": lambda _: None}
RENAMED = {
    "island": "island/site", "bill_length_mm": "bill length (mm)", "bill_depth_mm": "bill.depth[mm]",
    "flipper_length_mm": "2nd flipper mm", "body_mass_g": "Körpermasse g", "sex": "sex ", "year": "od280/od315",
    "species": "species name",
}


def test_tensor_names_are_safe_unique_and_keep_safe_names() -> None:
    names = ["bill_length_mm", "a b", "a/b", "2nd", "温度", "x.y", "a_b_1", "Loan ID"]
    chosen = input_names(names)
    assert chosen[0] == "bill_length_mm" and chosen[6] == "a_b_1"  # safe names stay
    assert len(set(chosen)) == len(chosen) and all(SAFE_NAME.fullmatch(n) for n in chosen)
    assert chosen[1] != "a_b_1" and chosen[3].startswith("f_2nd") and chosen[7] == "Loan_ID_7"


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("awkward")
    table = pacsv.read_csv(paths.BUNDLED_DATA, convert_options=pacsv.ConvertOptions(null_values=["NA", ""],
                                                                                       strings_can_be_null=True))
    source = root / "awkward.csv"
    pacsv.write_csv(table.rename_columns([RENAMED[n] for n in table.column_names]), source)
    ingest(str(source), "species name", root / "train", root / "eval", **QUIET)
    out = root / "validate"
    validate(root / "train", root / "eval",
             ValidateOutputs(out / "statistics", out / "schema", out / "anomalies", out / "r.html", out / "r.md"),
             on_anomalies="continue", **QUIET)
    return {"train": root / "train", "eval": root / "eval", "schema": out / "schema" / keys.SCHEMA_FILE, "root": root}


@pytest.mark.parametrize("trainer", ["fused", "keras"])
def test_every_awkward_column_trains_and_predicts(awkward: dict[str, Path], trainer: str) -> None:
    result = train(awkward["train"], awkward["eval"], awkward["schema"], awkward["root"] / trainer, "species name",
                   hp=Hyperparameters(epochs=8, early_stopping_patience=8, trainer=trainer), **QUIET)
    assert sorted(result.spec.names) == sorted(n for n in RENAMED.values() if n != "species name")
    assert result.metadata["metrics"]["val_accuracy"] > 0.9
    table = pq.read_table(parquet_files(awkward["eval"])[0])
    probabilities = BundleModel(result.bundle_dir).predict([table])
    assert probabilities.shape == (table.num_rows, 3) and np.isfinite(probabilities).all()


@pytest.mark.serving
def test_the_server_answers_and_explains_by_the_original_names(awkward: dict[str, Path]) -> None:
    bundle = awkward["root"] / "served"
    train(awkward["train"], awkward["eval"], awkward["schema"], bundle, "species name",
          hp=Hyperparameters(epochs=4, early_stopping_patience=4), **QUIET)
    model = BundleModel(bundle)
    rows = pq.read_table(parquet_files(awkward["eval"])[0]).slice(0, 3)
    instances = rows.select(model.spec.names).to_pylist()
    expected = model.predict([rows])
    with LocalServer(bundle, "awkward", python=str(paths.SERVING_PYTHON)) as server:
        status, v1 = call(f"{server.url}/v1/models/awkward:predict", {"instances": instances})
        assert status == 200, v1
        served = np.array([[p["probabilities"][c] for c in model.spec.classes] for p in v1["predictions"]])
        np.testing.assert_allclose(served, expected, atol=1e-5)
        inputs = [{"name": f.name, "shape": [3], "datatype": "BYTES" if f.kind == "categorical" else "FP32",
                   "data": [r[f.name] for r in instances]} for f in model.spec.features]
        status, v2 = call(f"{server.url}/v2/models/awkward/infer", {"inputs": inputs})
        assert status == 200, v2
        status, explained = call(f"{server.url}/v1/models/awkward:explain", {"instances": instances[:1]})
        assert status == 200, explained
    attributions = explained["explanations"][0]["attributions"]
    assert set(attributions) == set(model.spec.names)  # keyed by the columns' own names
