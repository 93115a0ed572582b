"""The monitor step on logged traffic: no false alarms on the training distribution, real shifts named.

Served rows are drawn (with replacement) from all of penguins (train and eval splits: the population the
baselines' samples came from), predicted by the real bundle, and written in the prediction log's format
(the predictor's own writer is exercised by the serving tests).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from components.errors import LooplineInputError
from components.lib.baseline import BASELINE_DIR
from components.lib.inference import BundleModel
from components.lib.registry import Registry
from components.monitor.executor import INSUFFICIENT, OK, RETRAIN, MonitorOutputs, monitor
from components.monitor.log_reading import Window
from loopline import cli
from support.traffic import draw, write_log

MODEL = "penguins"
START = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)


def _registry(root: str, bundle: Path, versions: int = 1) -> str:
    registry = Registry(root)
    for number in range(1, versions + 1):
        registry.register(MODEL, bundle, f"run-{number}", {})
    registry.promote(MODEL, 1, "run-1", "first")
    return root


@pytest.fixture(scope="module")
def registry_uri(penguins_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return _registry(str(tmp_path_factory.mktemp("registry")), penguins_bundle, versions=2)


def _hour(index: int) -> Window:
    return Window(START + timedelta(hours=index), START + timedelta(hours=index + 1))


def test_twenty_windows_of_the_training_distribution_raise_no_alarm(
    tmp_path: Path, registry_uri: str, train_rows: pa.Table, scorer: BundleModel
) -> None:
    """False alarms: 20 windows of 2,000 rows each drawn from the training split give zero `retrain`."""
    log_uri = str(tmp_path / "log")
    decisions = []
    for index in range(20):
        write_log(log_uri, draw(train_rows, 2000, seed=index), scorer, _hour(index).since + timedelta(minutes=5))
        result = monitor(log_uri, MODEL, registry_uri, _hour(index), log=lambda _: None)
        decisions.append(result.decision)
        assert result.versions[0].rows == 2000
    assert decisions == [OK] * 20


@pytest.mark.parametrize(("shift", "unseen", "feature", "measure"),
                         [(1200.0, 0.0, "body_mass_g", "psi"), (0.0, 0.03, "island", "new")])
def test_a_real_shift_is_a_retrain_naming_the_feature(
    tmp_path: Path, registry_uri: str, train_rows: pa.Table, scorer: BundleModel, shift: float, unseen: float,
    feature: str, measure: str
) -> None:
    log_uri = str(tmp_path / "log")
    served = draw(train_rows, 2000, seed=99, shift=shift, unseen=unseen)
    write_log(log_uri, served, scorer, START + timedelta(minutes=5))
    out = MonitorOutputs(tmp_path / "monitoring", tmp_path / "summary.md", tmp_path / "report.html")
    result = monitor(log_uri, MODEL, registry_uri, _hour(0), outputs=out, log=lambda _: None)
    assert result.decision == RETRAIN and feature in result.reason
    drift = {d.name: d for d in result.versions[0].drift}
    assert measure in drift[feature].drifted_by
    assert not drift["bill_depth_mm"].drifted, "an untouched feature is not named"
    written = json.loads((tmp_path / "monitoring" / "monitoring.json").read_text())
    assert written["decision"] == RETRAIN and written["versions"][0]["drift"][0]["floors"]
    assert (tmp_path / "summary.md").read_text().startswith("# Monitoring\n\n**retrain**")
    page = (tmp_path / "report.html").read_text()
    assert "<div class='decision retrain'><b>retrain</b>" in page and "<script" not in page and "http" not in page
    assert page.count("<h3>") == len(result.versions[0].drift) and f"<h3>{feature} <span class='flag'>" in page
    anomalies = {(a.feature, a.short) for a in result.versions[0].anomalies}  # TFDV's check, beside the measures
    if unseen:
        assert ("island", "Unexpected string values") in anomalies
        assert "also 1 TFDV schema anomaly: island" in result.reason
        assert written["versions"][0]["anomalies"][0]["feature"] == "island" and "Atlantis" in page
    else:
        assert anomalies == set() and "TFDV schema check on 2,000 rows: no anomalies" in page
    assert written["versions"][0]["anomaly_count"] == len(anomalies) == result.scalar_metrics()["schema_anomalies"]


def test_fewer_rows_than_the_minimum_is_insufficient_data_never_a_retrain(
    tmp_path: Path, registry_uri: str, train_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    write_log(log_uri, draw(train_rows, 100, seed=1, shift=1200.0), scorer, START + timedelta(minutes=5))
    result = monitor(log_uri, MODEL, registry_uri, _hour(0), min_rows=500, log=lambda _: None)
    assert result.decision == INSUFFICIENT and "100 rows" in result.reason


def test_rows_outside_the_window_are_not_read(
    tmp_path: Path, registry_uri: str, train_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    write_log(log_uri, draw(train_rows, 700, seed=2), scorer, START + timedelta(minutes=5))
    write_log(log_uri, draw(train_rows, 900, seed=3, shift=1200.0), scorer, START + timedelta(hours=1, minutes=5))
    inside = monitor(log_uri, MODEL, registry_uri, _hour(0), log=lambda _: None)
    assert inside.decision == OK and inside.versions[0].rows == 700
    assert monitor(log_uri, MODEL, registry_uri, _hour(1), log=lambda _: None).decision == RETRAIN


def test_two_versions_in_one_window_are_reported_apart_and_production_decides(
    tmp_path: Path, registry_uri: str, train_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    write_log(log_uri, draw(train_rows, 1500, seed=4), scorer, START + timedelta(minutes=5), version="1")
    write_log(log_uri, draw(train_rows, 600, seed=5, shift=1200.0), scorer, START + timedelta(minutes=6), version="2")
    result = monitor(log_uri, MODEL, registry_uri, _hour(0), log=lambda _: None)
    by_version = {v.version: v for v in result.versions}
    assert (by_version["1"].production, by_version["1"].rows) == (True, 1500)
    assert (by_version["2"].production, by_version["2"].rows) == (False, 600)
    assert result.decision == OK and not by_version["1"].drifted()
    assert "body_mass_g" in {d.name for d in by_version["2"].drifted()}


def test_a_production_version_without_a_baseline_is_refused_naming_it(
    tmp_path: Path, penguins_bundle: Path, train_rows: pa.Table
) -> None:
    old = tmp_path / "old-bundle"
    shutil.copytree(penguins_bundle, old, ignore=shutil.ignore_patterns(BASELINE_DIR))
    registry = _registry(str(tmp_path / "registry"), old)
    with pytest.raises(LooplineInputError, match="model version 1 .* has no monitoring baseline"):
        monitor(str(tmp_path / "log"), MODEL, registry, _hour(0), log=lambda _: None)


@pytest.mark.gcs
def test_log_and_registry_on_gcs(gcs_bucket: str, penguins_bundle: Path, train_rows: pa.Table,
                                 scorer: BundleModel) -> None:
    root = f"gs://{gcs_bucket}/monitor-test"
    registry = _registry(f"{root}/registry", penguins_bundle)
    write_log(f"{root}/log", draw(train_rows, 800, seed=6, unseen=0.05), scorer, START + timedelta(minutes=5))
    result = monitor(f"{root}/log", MODEL, registry, _hour(0), log=lambda _: None)
    assert result.decision == RETRAIN and "island" in result.reason


@pytest.mark.parametrize("unseen", [0.0, 0.05])
def test_loopline_monitor_prints_the_table_and_the_decision(
    tmp_path: Path, registry_uri: str, train_rows: pa.Table, scorer: BundleModel, capsys: pytest.CaptureFixture,
    unseen: float
) -> None:
    log_uri = str(tmp_path / "log")
    write_log(log_uri, draw(train_rows, 800, seed=7, shift=1200.0, unseen=unseen), scorer,
              START + timedelta(minutes=5))
    code = cli.main(["monitor", "--prediction-log", log_uri, "--registry", registry_uri,
                     "--since", _hour(0).since.isoformat(), "--until", _hour(0).until.isoformat()])
    shown = capsys.readouterr().out
    assert code == 0 and "VERSION  ROWS" in shown and "body_mass_g" in shown
    assert shown.strip().splitlines()[-1].startswith("loopline: RETRAIN: drift on 800 rows: ")
    counted = [line for line in shown.splitlines() if "TFDV schema anomal" in line and "RETRAIN" not in line]
    assert counted == ([] if not unseen else  # a line per version only when TFDV found something
                       ["loopline: v1: 1 TFDV schema anomaly on 800 checked rows: island (Unexpected string values) "
                        "(details: --json or the report)"])
