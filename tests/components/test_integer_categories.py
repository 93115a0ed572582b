"""Integer columns by the documented rule: numbers unless named in `categorical_features` (or marked categorical
in a curated schema); integer ids (all different, filling most of their range) left out; the data report says
what became of every column; the served model takes the codes as JSON integers, text or V2 INT64 tensors."""

from __future__ import annotations

import random
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from components import keys
from components.ingest.executor import ingest
from components.lib.bundle import CATEGORICAL, NUMERIC, read_bundle
from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from components.train.column_report import EXCLUDED, FEATURE, LABEL, LEFT_OUT
from components.train.executor import train
from components.train.feature_spec import build_feature_spec, load_schema
from components.train.model import Hyperparameters
from components.validate.executor import ValidateOutputs, validate
from loopline import paths

QUIET = {"log": lambda _: None}
COLUMNS = ["customer", "grade", "amount", "x", "region", "note", "bought"]


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """400 rows: a dense integer id, a grade coded 1-4 whose effect is not monotonic, distinct sparse amounts,
    a float, a constant region, a column the user excludes; the label is "yes" for grades 1 and 3."""
    root, rng = tmp_path_factory.mktemp("integer-codes"), random.Random(3)
    lines = [",".join(COLUMNS)]
    amounts = rng.sample(range(10_000, 10_000_000), 400)
    for i in range(400):
        grade = rng.randint(1, 4)
        lines.append(f"{1000 + i},{grade},{amounts[i]},{rng.random():.4f},north,n{i % 7},"
                     f"{'yes' if grade in (1, 3) else 'no'}")
    source = root / "coded.csv"
    source.write_text("\n".join(lines) + "\n")
    ingest(str(source), "bought", root / "train", root / "eval", **QUIET)
    out = root / "validate"
    validate(root / "train", root / "eval",
             ValidateOutputs(out / "statistics", out / "schema", out / "anomalies", out / "r.html", out / "r.md"),
             on_anomalies="continue", **QUIET)
    schema = out / "schema" / keys.SCHEMA_FILE
    result = train(root / "train", root / "eval", schema, root / "model", "bought", exclude=["note"],
                   categorical_features=["grade"], hp=Hyperparameters(epochs=40, early_stopping_patience=40),
                   report_path=root / "report.md", **QUIET)
    return {"root": root, "schema": schema, "result": result}


def test_a_named_integer_column_is_a_category_and_ids_and_constants_are_left_out(coded: dict) -> None:
    spec = coded["result"].spec
    assert spec.names == ["grade", "amount", "x"]
    grade = spec.features[0]
    assert grade.kind == CATEGORICAL and grade.dtype == "int" and sorted(grade.vocabulary) == ["1", "2", "3", "4"]
    assert spec.features[1].kind == NUMERIC  # distinct, but spread thin over their range: amounts, not an id
    assert coded["result"].metadata["metrics"]["val_accuracy"] > 0.95
    assert read_bundle(coded["result"].bundle_dir)[1]["categorical_features"] == ["grade"]


def test_the_data_report_says_what_became_of_every_column(coded: dict) -> None:
    fates = {f.column: f for f in coded["result"].columns}
    assert list(fates) == COLUMNS
    assert {c: f.became for c, f in fates.items()} == {
        "customer": LEFT_OUT, "grade": FEATURE, "amount": FEATURE, "x": FEATURE, "region": LEFT_OUT,
        "note": EXCLUDED, "bought": LABEL}
    assert "a different one on every row" in fates["customer"].detail and "(an id)" in fates["customer"].detail
    assert fates["region"].detail.startswith("constant")
    assert fates["grade"].detail.startswith("integer-coded category, 4 values")
    assert fates["bought"].detail == "classification: 2 classes"
    report = (coded["root"] / "report.md").read_text()
    assert "7 columns" in report and all(f"| {c} |" in report for c in COLUMNS)
    metadata = read_bundle(coded["result"].bundle_dir)[1]
    assert [c["column"] for c in metadata["columns"]] == COLUMNS


def test_without_the_name_an_integer_column_stays_a_number(coded: dict) -> None:
    files = parquet_files(coded["root"] / "train")
    spec, left_out = build_feature_spec(load_schema(coded["schema"]), files, "bought")
    assert next(f for f in spec.features if f.name == "grade").kind == NUMERIC
    assert set(left_out) == {"customer", "region"}


def test_a_curated_schema_can_mark_integers_categorical(coded: dict) -> None:
    schema = load_schema(coded["schema"])
    grade = next(f for f in schema.feature if f.name == "grade")
    assert grade.type == schema_pb2.INT
    grade.int_domain.is_categorical = True
    spec, _ = build_feature_spec(schema, parquet_files(coded["root"] / "train"), "bought")
    assert next(f for f in spec.features if f.name == "grade").kind == CATEGORICAL


def test_the_server_takes_integer_codes_as_numbers_text_or_int64_tensors(coded: dict) -> None:
    sys.path.insert(0, str(paths.ROOT / "kserve"))
    from loopline_predictor.payload import RequestError, decode_v1, decode_v2

    spec = coded["result"].spec
    row = {"grade": 3, "amount": 52_000, "x": 0.5}
    columns = decode_v1({"instances": [row, {**row, "grade": "3"}, {**row, "grade": None}]}, spec, 8)
    assert columns["grade"].tolist() == ["3", "3", ""]
    inputs = [{"name": "grade", "shape": [2], "datatype": "INT64", "data": [1, 2]},
              {"name": "amount", "shape": [2], "datatype": "INT64", "data": [52_000, 61_000]},
              {"name": "x", "shape": [2], "datatype": "FP32", "data": [0.5, 0.5]}]
    assert decode_v2(inputs, spec, 8)["grade"].tolist() == ["1", "2"]
    with pytest.raises(RequestError, match="expected string or integer or null, got number 3.5"):
        decode_v1({"instances": [{**row, "grade": 3.5}]}, spec, 8)

    table = pq.read_table(parquet_files(coded["root"] / "eval")[0])
    probabilities = BundleModel(coded["result"].bundle_dir).predict([table])
    predicted = np.array(spec.classes)[probabilities.argmax(axis=1)]
    truth = np.where(np.isin(table.column("grade").to_numpy(), [1, 3]), "yes", "no")
    assert (predicted == truth).mean() > 0.95
