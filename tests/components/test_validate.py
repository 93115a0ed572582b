"""validate: the two statistics engines agree; drift, skew and unseen values are found and named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from google.protobuf import json_format, text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components import keys
from components.errors import DataValidationError, LooplineInputError
from components.lib import uri as uri_io
from components.lib.datasets import parquet_files
from components.validate import executor
from components.validate.statistics import (
    beam_statistics,
    choose_engine,
    default_workers,
    in_memory_statistics,
    usable_cpus,
)
from loopline.synthetic import Problems, fit_profile, generate

ROWS = 4000


@pytest.fixture(scope="module")
def profile(penguins_csv: Path):
    return fit_profile(penguins_csv)


def _dataset(profile, folder: Path, seed: int, problems: Problems = Problems(), rows: int = ROWS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    generate(profile, rows, folder / keys.DATA_FILE, "parquet", seed=seed, problems=problems)
    return folder


def _outputs(root: Path) -> executor.ValidateOutputs:
    return executor.ValidateOutputs(
        root / "statistics", root / "schema", root / "anomalies", root / "report.html", root / "report.md"
    )


def _validate(train: Path, evaluation: Path, root: Path, **kwargs):
    kwargs.setdefault("on_anomalies", "continue")
    return executor.validate(train, evaluation, _outputs(root), log=lambda _: None, **kwargs)


@pytest.fixture(scope="module")
def clean_run(profile, tmp_path_factory: pytest.TempPathFactory):
    """Clean train/eval from the same distribution, validated once: the baseline of the other tests."""
    root = tmp_path_factory.mktemp("clean")
    train = _dataset(profile, root / "train", seed=1)
    evaluation = _dataset(profile, root / "eval", seed=2, rows=1000)
    return root, train, evaluation, _validate(train, evaluation, root / "out")


def test_engines_give_the_same_statistics(profile, tmp_path: Path) -> None:
    data = _dataset(profile, tmp_path / "d", seed=3, problems=Problems(missing_rate=0.05), rows=3000)
    files = parquet_files(data)
    in_memory = in_memory_statistics(files, batch_rows=700, workers=1)
    forked = in_memory_statistics(files, batch_rows=700, workers=2)
    beam = beam_statistics(files, batch_rows=700)
    assert in_memory.datasets[0].num_examples == 3000
    _assert_same(json_format.MessageToDict(in_memory), json_format.MessageToDict(beam), "statistics")
    _assert_same(json_format.MessageToDict(in_memory), json_format.MessageToDict(forked), "statistics")


def test_workers_by_size() -> None:
    assert default_workers(10_000) == 1
    assert default_workers(499_999) == 1
    assert default_workers(100_000_000) == usable_cpus() <= len(os.sched_getaffinity(0))


def _assert_same(a: object, b: object, where: str) -> None:
    """Equal structure and values; floats to 1e-9 relative (Beam sums its bundles in another order)."""
    assert type(a) is type(b), f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            _assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_auto_engine_is_in_memory_locally_and_beam_for_a_remote_runner(clean_run) -> None:
    _, train, _, _ = clean_run
    files = parquet_files(train)
    assert choose_engine("auto", files, []) == "in_memory"
    assert choose_engine("auto", files, ["--runner=DataflowRunner", "--project=p"]) == "beam"
    assert choose_engine("beam", files, []) == "beam"
    with pytest.raises(LooplineInputError, match="statistics engine must be one of"):
        choose_engine("spark", files, [])


def test_clean_data_passes_and_every_output_is_written(clean_run) -> None:
    root, _, _, result = clean_run
    assert result.data_ok, result.reason
    out = root / "out"
    for split in keys.SPLITS:
        assert (out / "statistics" / keys.STATS_FILE.format(split=split)).stat().st_size > 0
        text_format.Parse(
            (out / "anomalies" / keys.ANOMALIES_FILE.format(split=split)).read_text(), anomalies_pb2.Anomalies()
        )
    schema_text = (out / "schema" / keys.SCHEMA_FILE).read_text()
    assert 'name: "island"' in schema_text and "drift_comparator" in schema_text
    decision = json.loads((out / "anomalies" / keys.DECISION_FILE).read_text())
    assert decision == {"data_ok": True, "reason": result.reason, "anomalies": 0, "anomaly_rows": []}
    assert "island" in (out / "report.html").read_text()
    assert (out / "report.md").read_text().strip()


def test_mean_shift_is_reported_as_drift_naming_the_feature(profile, clean_run, tmp_path: Path) -> None:
    root, _, _, _ = clean_run
    shifted = Problems(shift={"body_mass_g": 900.0})
    train = _dataset(profile, tmp_path / "train", seed=11, problems=shifted)
    evaluation = _dataset(profile, tmp_path / "eval", seed=12, problems=shifted, rows=1000)
    result = _validate(
        train, evaluation, tmp_path / "out",
        schema_uri=str(root / "out" / "schema" / keys.SCHEMA_FILE),
        baseline_uri=str(root / "out" / "statistics"),
    )
    assert not result.data_ok
    drift = [r for r in result.rows if "previous" in r.description]
    assert [r.feature for r in drift] == ["body_mass_g"]
    assert "Jensen-Shannon" in drift[0].description
    assert "body_mass_g" in result.reason


def test_unseen_categories_are_a_schema_anomaly_naming_the_value(profile, clean_run, tmp_path: Path) -> None:
    root, train, _, _ = clean_run
    evaluation = _dataset(profile, tmp_path / "eval", seed=13, problems=Problems(unseen={"island": 0.05}), rows=1000)
    result = _validate(
        train, evaluation, tmp_path / "out", schema_uri=str(root / "out" / "schema" / keys.SCHEMA_FILE)
    )
    rows = [r for r in result.rows if r.split == keys.EVAL and r.feature == "island"]
    assert rows and "Unseen_1" in rows[0].description
    assert "island" in (tmp_path / "out" / "report.md").read_text()


def test_train_eval_skew_is_found(profile, clean_run, tmp_path: Path) -> None:
    _, train, _, _ = clean_run
    evaluation = _dataset(profile, tmp_path / "eval", seed=14, problems=Problems(shift={"flipper_length_mm": 25.0}))
    result = _validate(train, evaluation, tmp_path / "out")
    skew = [r for r in result.rows if "training and serving" in r.description]
    assert [r.feature for r in skew] == ["flipper_length_mm"]


def test_thresholds_at_zero_turn_the_comparison_off(profile, clean_run, tmp_path: Path) -> None:
    _, train, _, _ = clean_run
    evaluation = _dataset(profile, tmp_path / "eval", seed=14, problems=Problems(shift={"flipper_length_mm": 25.0}))
    from components.validate.thresholds import Thresholds

    off = Thresholds(drift_categorical_threshold=0, drift_numeric_threshold=0, skew_categorical_threshold=0,
                     skew_numeric_threshold=0)
    result = _validate(train, evaluation, tmp_path / "out", thresholds=off)
    assert result.data_ok, result.reason


def test_fail_policy_stops_after_writing_the_reports(profile, clean_run, tmp_path: Path) -> None:
    root, train, _, _ = clean_run
    evaluation = _dataset(profile, tmp_path / "eval", seed=15, problems=Problems(unseen={"sex": 0.1}), rows=500)
    with pytest.raises(DataValidationError, match="data validation failed .*eval/sex"):
        _validate(
            train, evaluation, tmp_path / "out",
            schema_uri=str(root / "out" / "schema" / keys.SCHEMA_FILE), on_anomalies="fail",
        )
    decision = json.loads((tmp_path / "out" / "anomalies" / keys.DECISION_FILE).read_text())
    assert decision["data_ok"] is False
    assert {(row["split"], row["feature"]) for row in decision["anomaly_rows"]} >= {("eval", "sex")}  # for the card
    assert (tmp_path / "out" / "report.html").exists()


def test_bad_arguments_are_refused_by_name(clean_run, tmp_path: Path) -> None:
    _, train, evaluation, _ = clean_run
    with pytest.raises(LooplineInputError, match="reference schema not found: /nope.pbtxt"):
        _validate(train, evaluation, tmp_path / "a", schema_uri="/nope.pbtxt")
    bad_schema = tmp_path / "bad.pbtxt"
    bad_schema.write_text("feature { nonsense: 1 }")
    with pytest.raises(LooplineInputError, match="is not a Schema text proto"):
        _validate(train, evaluation, tmp_path / "b", schema_uri=str(bad_schema))
    with pytest.raises(LooplineInputError, match="baseline statistics not found"):
        _validate(train, evaluation, tmp_path / "c", baseline_uri=str(tmp_path / "none"))
    with pytest.raises(LooplineInputError, match="on_anomalies must be one of"):
        _validate(train, evaluation, tmp_path / "d", on_anomalies="ignore")
    with pytest.raises(LooplineInputError, match="no Parquet files in dataset"):
        _validate(tmp_path, evaluation, tmp_path / "e")
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


@pytest.mark.gcs
def test_schema_and_baseline_read_from_gcs(gcs_bucket: str, profile, clean_run, tmp_path: Path) -> None:
    root, _, _, _ = clean_run
    schema_uri = f"gs://{gcs_bucket}/validate/schema.pbtxt"
    baseline_uri = f"gs://{gcs_bucket}/validate/statistics"
    uri_io.write_bytes(schema_uri, (root / "out" / "schema" / keys.SCHEMA_FILE).read_bytes())
    stats_name = keys.STATS_FILE.format(split=keys.TRAIN)
    uri_io.write_bytes(f"{baseline_uri}/{stats_name}", (root / "out" / "statistics" / stats_name).read_bytes())
    shifted = Problems(shift={"bill_length_mm": 8.0})
    train = _dataset(profile, tmp_path / "train", seed=16, problems=shifted)
    evaluation = _dataset(profile, tmp_path / "eval", seed=17, problems=shifted, rows=1000)
    result = _validate(train, evaluation, tmp_path / "out", schema_uri=schema_uri, baseline_uri=baseline_uri)
    assert result.schema_source == schema_uri
    assert [r.feature for r in result.rows if "previous" in r.description] == ["bill_length_mm"]
