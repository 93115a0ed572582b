"""`loopline run training` refuses wrong parameters before any step runs, and names the model after the source."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.errors import LooplineInputError
from loopline import cli, paths
from loopline.preflight import model_name_from, source_sample


@pytest.mark.parametrize(("source", "name"), [
    ("data/penguins.csv", "penguins"), ("gs://bucket/raw/Breast Cancer.data.csv", "breast-cancer"),
    ("data/wine/*.csv", "wine"), ("/tmp/exports/", "exports"), ("2024_Loans.parquet", "2024_loans"),
])
def test_the_model_name_comes_from_the_source(source: str, name: str) -> None:
    assert model_name_from(source) == name


def test_no_name_left_is_a_clear_error() -> None:
    with pytest.raises(LooplineInputError, match="give --model-name"):
        model_name_from("gs://bucket/!!!.csv")


def test_the_first_rows_give_the_columns_and_their_types(tmp_path: Path) -> None:
    pq.write_table(pa.table({"y": ["a", "b"], "x": [1.5, 2.5]}), tmp_path / "t.parquet")
    assert source_sample(str(tmp_path / "t.parquet")).schema.names == ["y", "x"]
    sample = source_sample(str(paths.BUNDLED_DATA))
    assert pa.types.is_string(sample.schema.field("species").type) and sample.num_rows == 344
    assert source_sample("gs://bucket/data.csv") is None and source_sample(str(tmp_path / "none.csv")) is None


@pytest.mark.parametrize(("extra", "message"), [
    (["--model-name", "Penguins!"], "invalid model name 'Penguins!'"),
    (["--features", "wings,bill_length_mm"], r"columns \['wings'\] are not in the source"),
    (["--label", "kind"], r"columns \['kind'\] are not in the source"),
    (["--floor", "max_rmse=300"], "floor 'max_rmse': classification has no metric 'rmse'"),
    (["--label", "body_mass_g", "--floor", "min_accuracy=0.9"], "regression has no metric 'accuracy'"),
    (["--dropout", "1.5"], r"dropout must be in \[0, 1\), not 1.5"),
    (["--epochs", "0"], "epochs must be at least 1, not 0"),
    (["--eval-fraction", "1.5"], "--eval-fraction must be between 0 and 1, not 1.5"),
])
def test_wrong_parameters_stop_the_run_before_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                        extra: list[str], message: str) -> None:
    root = tmp_path / "root"
    code = cli.main(["run", "training", "--pipeline-root", str(root), "--registry", str(tmp_path / "reg"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert not root.exists()  # nothing ran
