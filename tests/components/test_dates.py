"""Dates and timestamps: kept as ISO text by ingest (TFDV has no such types), left out of the model unless named."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from components import keys
from components.ingest.executor import ingest
from components.lib.bundle import CATEGORICAL
from components.lib.datasets import parquet_files
from components.train.executor import train
from components.train.model import Hyperparameters
from components.validate.executor import ValidateOutputs, validate
from loopline import paths

QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("dated")
    table = pacsv.read_csv(paths.BUNDLED_DATA, convert_options=pacsv.ConvertOptions(null_values=["NA", ""],
                                                                                       strings_can_be_null=True))
    days = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(table.num_rows)]
    lines = ["seen,measured_at," + ",".join(table.column_names)]
    for i, row in enumerate(table.to_pylist()):
        cells = ["" if row[n] is None else str(row[n]) for n in table.column_names]
        lines.append(f"{days[i]},{days[i]} 10:{i % 60:02d}:00," + ",".join(cells))
    source = root / "dated.csv"
    source.write_text("\n".join(lines) + "\n")
    assert pacsv.read_csv(source).schema.field("seen").type == pa.date32()  # what used to crash validate
    result = ingest(str(source), "species", root / "train", root / "eval", **QUIET)
    out = root / "validate"
    validate(root / "train", root / "eval",
             ValidateOutputs(out / "statistics", out / "schema", out / "anomalies", out / "r.html", out / "r.md"),
             on_anomalies="continue", **QUIET)
    return {"root": root, "result": result, "schema": out / "schema" / keys.SCHEMA_FILE}


def test_ingest_writes_dates_as_iso_text_and_says_which(dated: dict) -> None:
    result, root = dated["result"], dated["root"]
    assert result.temporal_columns == ["seen", "measured_at"]
    assert result.metadata(keys.TRAIN)["temporal_columns"] == ["seen", "measured_at"]
    written = pq.read_table(parquet_files(root / "train")[0])
    assert written.schema.field("seen").type == pa.string() and written.column("seen")[0].as_py().startswith("2024-")
    assert written.column("measured_at")[0].as_py().endswith(":00")


def test_train_leaves_dates_out_unless_named(dated: dict) -> None:
    root, lines = dated["root"], []
    default = train(root / "train", root / "eval", dated["schema"], root / "a", "species",
                    dates=["seen", "measured_at"], hp=Hyperparameters(epochs=2, early_stopping_patience=2),
                    log=lines.append)
    assert {"seen", "measured_at"}.isdisjoint(default.spec.names) and "island" in default.spec.names
    assert any("left out the date/time columns seen, measured_at" in line for line in lines)
    named = train(root / "train", root / "eval", dated["schema"], root / "b", "species",
                  dates=["seen", "measured_at"], features=["seen", "bill_length_mm"],
                  hp=Hyperparameters(epochs=2, early_stopping_patience=2), **QUIET)
    assert named.spec.names == ["seen", "bill_length_mm"] and named.spec.features[0].kind == CATEGORICAL
