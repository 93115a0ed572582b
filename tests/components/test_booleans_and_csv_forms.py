"""Booleans as label and feature, a UTF-8 byte-order mark and quoted separators: train, predict and serve."""

from __future__ import annotations

import random
import sys

import pyarrow.parquet as pq
import pytest

from components import keys
from components.ingest.executor import ingest
from components.lib.bundle import CATEGORICAL, CLASSIFICATION
from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from components.train.executor import train
from components.train.model import Hyperparameters
from components.validate.executor import ValidateOutputs, validate
from loopline import paths

QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root, rng = tmp_path_factory.mktemp("booleans"), random.Random(1)
    lines = ["size,flag,note,label"]
    for i in range(400):
        size, flag = rng.random() * 10, rng.random() < 0.5
        lines.append(f'{size:.3f},{str(flag).lower()},"a, {i % 3}",{str((size > 5) != flag).lower()}')
    source = root / "booleans.csv"
    source.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())  # a BOM, as Excel writes
    ingest(str(source), "label", root / "train", root / "eval", **QUIET)
    out = root / "validate"
    validate(root / "train", root / "eval",
             ValidateOutputs(out / "statistics", out / "schema", out / "anomalies", out / "r.html", out / "r.md"),
             on_anomalies="continue", **QUIET)
    result = train(root / "train", root / "eval", out / "schema" / keys.SCHEMA_FILE, root / "model", "label",
                   hp=Hyperparameters(epochs=30, early_stopping_patience=30), **QUIET)
    return root, result


def test_a_boolean_label_and_feature_train(trained) -> None:
    root, result = trained
    spec = result.spec
    assert spec.task == CLASSIFICATION and spec.classes == ["false", "true"]
    assert spec.names == ["size", "flag", "note"]  # the BOM is not part of the first name
    flag, note = spec.features[1], spec.features[2]
    assert flag.kind == CATEGORICAL and sorted(flag.vocabulary) == ["false", "true"]
    assert sorted(note.vocabulary) == ["a, 0", "a, 1", "a, 2"]  # quoted separators stay inside the value
    assert result.metadata["metrics"]["val_accuracy"] > 0.9  # the label is size > 5 XOR flag: flag is used
    table = pq.read_table(parquet_files(root / "eval")[0])
    assert BundleModel(result.bundle_dir).predict([table]).shape == (table.num_rows, 2)


def test_the_server_takes_json_booleans_for_a_boolean_feature(trained) -> None:
    sys.path.insert(0, str(paths.ROOT / "kserve"))
    from loopline_predictor.payload import decode_v1

    _, result = trained
    row = {"size": 7.5, "flag": True, "note": "a, 1"}
    columns = decode_v1({"instances": [row, {**row, "flag": False}, {**row, "flag": "true"}]}, result.spec, 8)
    assert columns["flag"].tolist() == ["true", "false", "true"]
