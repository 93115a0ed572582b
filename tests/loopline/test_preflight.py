"""`loopline run` refuses wrong parameters before any step runs, and names the model: after the source (training),
the registry's only model (monitoring)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.errors import LooplineInputError
from components.lib.registry import Registry
from loopline import cli, paths
from loopline.preflight import model_in_registry, model_name_from, source_sample


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
    (["--drift-numeric-threshold", "2"], r"--drift-numeric-threshold must be at most 1 \(<= 0 turns it off\), not 2"),
])
def test_wrong_parameters_stop_the_run_before_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                        extra: list[str], message: str) -> None:
    root = tmp_path / "root"
    code = cli.main(["run", "training", "--pipeline-root", str(root), "--registry", str(tmp_path / "reg"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert not root.exists()  # nothing ran


@pytest.mark.parametrize(("extra", "message"), [
    (["--label", "kind"], r"columns \['kind'\] are not in the source"),
    (["--key-column", "id"], r"columns \['id'\] are not in the source"),
    (["--eval-fraction", "0"], "--eval-fraction must be between 0 and 1, not 0.0"),
    (["--skew-categorical-threshold", "1.2"], "--skew-categorical-threshold must be at most 1"),
])
def test_a_data_validation_run_is_checked_too(tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str],
                                              message: str) -> None:
    root = tmp_path / "root"
    assert cli.main(["run", "data-validation", "--pipeline-root", str(root), *extra]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not root.exists()


def _registry_with(root: Path, *models: str) -> str:
    bundle = root / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "saved_model.pb").write_bytes(b"model")
    registry = Registry(str(root / "registry"))
    for model in models:
        registry.register(model, bundle, "run-1", {})
    return registry.root


@pytest.mark.parametrize(("extra", "message"), [
    (["--model-name", "Penguins!"], "invalid model name 'Penguins!'"),
    (["--threshold", "psi=0"], "--threshold psi must be above 0, not 0.0"),
    (["--threshold", "js=1.5"], r"--threshold js must be in \(0, 1\], not 1.5"),
    (["--threshold", "wasserstein=0.1"], "--threshold wasserstein: no such drift check; checks: psi, kl, js"),
    (["--window-hours", "0"], "--window-hours must be above 0, not 0.0"),
    (["--performance-tolerance", "2"], "--performance-tolerance must be between 0 and 1, not 2.0"),
    (["--min-labels", "-1"], "--min-labels must not be negative, not -1"),
    (["--since", "yesterday"], "--since: not an ISO time: 'yesterday'"),
])
def test_a_monitoring_run_is_checked_before_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                      extra: list[str], message: str) -> None:
    registry, root = _registry_with(tmp_path, "wine"), tmp_path / "root"
    code = cli.main(["run", "monitoring", "--pipeline-root", str(root), "--registry", registry,
                     "--prediction-log", str(tmp_path / "log"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
    assert not root.exists()


@pytest.mark.parametrize(("models", "message"), [
    ((), "holds no model \\(train one first\\): give --model-name"),
    (("iris", "wine"), "holds the models iris, wine: give --model-name"),
])
def test_monitoring_names_the_registrys_only_model_and_asks_when_there_is_none_or_several(
        tmp_path: Path, models: tuple[str, ...], message: str) -> None:
    registry = _registry_with(tmp_path, *models)
    with pytest.raises(LooplineInputError, match=message):
        model_in_registry(registry)
    assert model_in_registry(_registry_with(tmp_path / "one", "wine")) == "wine"
