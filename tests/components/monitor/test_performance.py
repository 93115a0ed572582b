"""Performance in production: labels joined by inference id, realized and estimated metrics, concept drift, canary.

Served rows are real penguins predicted by the real bundle and written in the prediction log's format;
labels go through the labels store that `loopline feedback` writes (components/lib/labels.py).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from components.evaluate.metrics import classification_metrics, regression_metrics
from components.lib.baseline import BASELINE_DIR, BINS_FILE
from components.lib.calibration import fit_calibration
from components.lib.inference import BundleModel
from components.lib.registry import Registry
from components.monitor.canary import PROMOTE, ROLL_BACK
from components.monitor.executor import OK, RETRAIN, Monitoring, MonitorOutputs, monitor
from components.monitor.log_reading import Window
from components.monitor.performance import PerformanceSettings
from components.monitor.realized import realized_regression
from loopline import cli
from support.served_labels import MODEL, eval_info, label, registry_of, serve, truth, worse_outputs
from support.traffic import draw, write_rows

START = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
WINDOW = Window(START, START + timedelta(hours=2))
NOW_SETTINGS = PerformanceSettings(maturity_hours=0.0)


@pytest.fixture(scope="module")
def registry_uri(penguins_bundle: Path, scorer: BundleModel, labelled_rows: pa.Table,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    return registry_of(str(tmp_path_factory.mktemp("registry")), penguins_bundle, eval_info(scorer, labelled_rows))


def _run(log_uri: str, registry_uri: str, settings: PerformanceSettings = NOW_SETTINGS, **kwargs) -> Monitoring:
    return monitor(log_uri, MODEL, registry_uri, WINDOW, min_rows=100, settings=settings, log=lambda _: None,
                   **kwargs)


def _outputs(tmp_path: Path) -> MonitorOutputs:
    return MonitorOutputs(tmp_path / "monitoring", tmp_path / "summary.md", tmp_path / "report.html")


def _renamed(species: list[str]) -> list[str]:
    """Labels from a world whose label rule changed: Adelie penguins are now called Chinstrap."""
    return ["Chinstrap" if s == "Adelie" else s for s in species]


def test_realized_metrics_equal_the_evaluate_steps_metric_code_on_the_same_rows(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    served = draw(labelled_rows, 600, seed=1)
    ids = serve(log_uri, served, scorer, START + timedelta(minutes=5))
    labelled = list(range(0, 600, 2))
    label(log_uri, [ids[i] for i in labelled], [served.column("species")[i].as_py() for i in labelled])
    result = _run(log_uri, registry_uri)
    judged = result.versions[0].performance
    subset = served.take(pa.array(labelled))
    expected = classification_metrics(truth(scorer, subset), scorer.predict([subset.select(scorer.spec.names)]),
                                      scorer.spec.classes)
    realized = judged.realized
    assert (judged.labelled_rows, realized.rows, judged.label_coverage) == (300, 300, 0.5)
    assert realized.metrics["accuracy"].value == pytest.approx(expected["accuracy"], abs=1e-12)
    assert realized.metrics["macro_f1"].value == pytest.approx(expected["macro_f1"], abs=1e-12)
    for name in scorer.spec.classes:
        for rate in ("recall", "precision"):
            assert realized.per_class[name][rate].value == pytest.approx(expected["per_class"][name][rate], abs=1e-12)
    interval = realized.metrics["accuracy"]
    assert interval.low <= interval.value <= interval.high and interval.high - interval.low < 0.1


def test_the_join_counts_late_missing_duplicate_and_unknown_labels_and_the_maturity_window(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    old, young = draw(labelled_rows, 200, seed=2), draw(labelled_rows, 100, seed=3)
    old_ids = serve(log_uri, old, scorer, START + timedelta(minutes=10))
    young_ids = serve(log_uri, young, scorer, START + timedelta(minutes=100))  # 20 minutes before the window ends
    species = old.column("species").to_pylist()
    label(log_uri, old_ids[:80], species[:80], now=datetime(2026, 12, 1, 3, tzinfo=timezone.utc))
    # Late: a day after the rows; a duplicate of a labelled row (the earlier label wins) and ids never served.
    label(log_uri, old_ids[80:120] + old_ids[:10] + ["nobody:0", "nobody:1"],
           species[80:120] + ["Gentoo"] * 10 + ["Adelie", "Adelie"], now=datetime(2026, 12, 2, 9, tzinfo=timezone.utc))
    label(log_uri, young_ids[:5], young.column("species").to_pylist()[:5])
    result = _run(log_uri, registry_uri, PerformanceSettings(maturity_hours=1.0))
    judged = result.versions[0].performance
    # Realized is measured on the window an hour earlier (the rows that have had an hour to get a label): the
    # old rows; the young ones are estimated, and their early label waits for the window that matures them.
    assert result.labels_window == "2026-11-30T23:00:00+00:00 .. 2026-12-01T01:00:00+00:00"
    assert (judged.rows, judged.mature_rows, judged.labelled_rows) == (300, 200, 120)
    assert judged.label_coverage == pytest.approx(120 / 200)
    first_labels = classification_metrics(truth(scorer, old.slice(0, 120)), scorer.predict([old.slice(0, 120).select(
        scorer.spec.names)]), scorer.spec.classes)
    assert judged.realized.metrics["accuracy"].value == pytest.approx(first_labels["accuracy"])
    assert judged.estimated.rows == 300 and judged.estimated_labelled.rows == 120


def test_rows_are_weighted_by_the_sample_rate_they_were_logged_at(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    """100 rows logged at 100% with true labels, 100 at 25% (each standing for 4) labelled wrong: accuracy 0.2."""
    log_uri = str(tmp_path / "log")
    right, wrong = draw(labelled_rows, 100, seed=4), draw(labelled_rows, 100, seed=5)
    right_ids = serve(log_uri, right, scorer, START + timedelta(minutes=5), sample_rate=1.0)
    wrong_ids = serve(log_uri, wrong, scorer, START + timedelta(minutes=6), sample_rate=0.25)
    predicted = [scorer.spec.classes[int(np.argmax(p))] for p in scorer.predict([right.select(scorer.spec.names)])]
    wrong_predicted = [scorer.spec.classes[int(np.argmax(p))] for p in
                       scorer.predict([wrong.select(scorer.spec.names)])]
    other = {c: scorer.spec.classes[(i + 1) % 3] for i, c in enumerate(scorer.spec.classes)}
    label(log_uri, right_ids + wrong_ids[:50], predicted + [other[p] for p in wrong_predicted[:50]])
    result = _run(log_uri, registry_uri)
    judged = result.versions[0].performance
    assert judged.realized.metrics["accuracy"].value == pytest.approx(100 / (100 + 50 * 4))
    assert judged.label_coverage == pytest.approx((100 + 50 * 4) / (100 + 100 * 4))
    assert result.versions[0].traffic_share == 1.0


def test_the_estimate_is_within_its_stated_error_on_a_calibrated_model(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    served = draw(labelled_rows, 1000, seed=6)
    ids = serve(log_uri, served, scorer, START + timedelta(minutes=5))
    label(log_uri, ids, served.column("species").to_pylist())
    judged = _run(log_uri, registry_uri).versions[0].performance
    estimate, realized = judged.estimated_labelled.metrics["accuracy"], judged.realized.metrics["accuracy"]
    assert judged.estimated.calibration_ok, judged.estimated.calibration
    assert abs(estimate.value - realized.value) <= judged.estimated_labelled.error, (estimate, realized)
    assert not judged.estimate_missed and not judged.warnings


def test_concept_drift_is_a_retrain_naming_the_metric_while_drift_says_ok(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    """Inputs as in training; the world's label rule changed: Adelie penguins are now called Chinstrap."""
    log_uri = str(tmp_path / "log")
    served = draw(labelled_rows, 1000, seed=7)
    ids = serve(log_uri, served, scorer, START + timedelta(minutes=5))
    label(log_uri, ids, _renamed(served.column("species").to_pylist()))
    out = _outputs(tmp_path)
    result = _run(log_uri, registry_uri, outputs=out)
    assert not result.versions[0].drifted(), "the inputs did not move"
    assert result.decision == RETRAIN and result.reason.startswith("performance: accuracy ")
    assert "worse than v1's eval" in result.reason and "past its floor min_accuracy 0.9" in result.reason
    page = (tmp_path / "report.html").read_text()
    assert "Performance" in page and "accuracy" in page
    assert "### Performance" in (tmp_path / "summary.md").read_text()


def test_loopline_monitor_prints_realized_and_estimated_accuracy_per_version(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel, capsys: pytest.CaptureFixture
) -> None:
    log_uri = str(tmp_path / "log")
    served = draw(labelled_rows, 400, seed=15)
    ids = serve(log_uri, served, scorer, START + timedelta(minutes=5))
    label(log_uri, ids[:200], _renamed(served.column("species").to_pylist()[:200]))
    code = cli.main(["monitor", "--prediction-log", log_uri, "--registry", registry_uri, "--since",
                     WINDOW.since.isoformat(), "--until", WINDOW.until.isoformat(), "--min-rows", "100",
                     "--maturity-hours", "0", "--performance-tolerance", "0.02"])
    shown = capsys.readouterr().out
    header = next(line for line in shown.splitlines() if line.startswith("VERSION  TRAFFIC"))
    row = shown.splitlines()[shown.splitlines().index(header) + 1].split()
    assert code == 0 and row[:5] == ["v1*", "100%", "200", "50%", "accuracy"]
    assert "±" in shown and shown.strip().splitlines()[-1].startswith("loopline: RETRAIN: performance: accuracy")
    assert "by more than the tolerance 0.02" in shown.strip().splitlines()[-1]


def test_a_version_seen_only_in_the_labels_window_is_reported_with_its_realized_metrics(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    """Production served yesterday, labels came back, nothing served today: insufficient data, yesterday judged."""
    log_uri = str(tmp_path / "log")
    served = draw(labelled_rows, 200, seed=16)
    ids = serve(log_uri, served, scorer, START - timedelta(hours=23))
    label(log_uri, ids, served.column("species").to_pylist())
    out = _outputs(tmp_path)
    result = _run(log_uri, registry_uri, PerformanceSettings(maturity_hours=24.0), outputs=out)
    production = result.versions[0]
    assert result.decision == "insufficient data" and (production.rows, production.drift) == (0, [])
    assert production.performance.realized.rows == 200 and production.performance.label_coverage == 1.0
    assert production.performance.estimated is None, "nothing served in the window to estimate"
    assert result.scalar_metrics()["labelled_rows"] == 200.0


def test_without_enough_labels_a_bad_accuracy_is_reported_but_decides_nothing(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    log_uri = str(tmp_path / "log")
    served = draw(labelled_rows, 500, seed=8)
    ids = serve(log_uri, served, scorer, START + timedelta(minutes=5))
    label(log_uri, ids[:20], ["Chinstrap"] * 20)
    result = _run(log_uri, registry_uri)
    assert result.decision == OK and result.versions[0].performance.realized.rows == 20


@pytest.mark.parametrize(("worse_share", "verdict"), [(0.3, ROLL_BACK), (0.0, PROMOTE)])
def test_a_worse_canary_is_reported_worse_and_an_equal_one_promoted(
    tmp_path: Path, registry_uri: str, labelled_rows: pa.Table, scorer: BundleModel, worse_share: float,
    verdict: str, capsys: pytest.CaptureFixture
) -> None:
    """The verdict, in monitoring.json and the report, and `loopline models promote --monitoring` obeying it."""
    log_uri = str(tmp_path / "log")
    stable, canary = draw(labelled_rows, 900, seed=9), draw(labelled_rows, 300, seed=10)
    stable_ids = serve(log_uri, stable, scorer, START + timedelta(minutes=5), version="1")
    canary_ids = write_rows(log_uri, canary.select(scorer.spec.names).to_pylist(),
                            worse_outputs(scorer, canary, worse_share, seed=11), START + timedelta(minutes=6), "2")
    species = stable.column("species").to_pylist() + canary.column("species").to_pylist()
    label(log_uri, stable_ids + canary_ids, species)
    out = _outputs(tmp_path)
    result = _run(log_uri, registry_uri, outputs=out)
    found = result.canary
    assert (found.canary, found.stable, found.basis, found.verdict) == ("2", "1", "realized", verdict), found.reason
    shares = {side.version: side.traffic_share for side in found.sides}
    assert shares == {"2": pytest.approx(0.25), "1": pytest.approx(0.75)}
    written = json.loads((tmp_path / "monitoring" / "monitoring.json").read_text())
    assert written["canary"]["verdict"] == verdict
    assert f"canary v2 vs stable v1: {verdict}" in (tmp_path / "report.html").read_text()
    copy = shutil.copytree(registry_uri, tmp_path / "registry")
    promote = ["models", "promote", MODEL, "2", "--registry", str(copy), "--reason", "canary done",
               "--monitoring", str(tmp_path / "monitoring")]
    code = cli.main(promote)
    production = Registry(str(copy)).alias(MODEL, "production").number
    if verdict == PROMOTE:
        assert code == 0 and production == 2
        assert "canary verdict promote" in Registry(str(copy)).events(MODEL)[-1].reason
    else:
        assert code == 2 and production == 1 and "v2 is not promoted: canary verdict roll back" in \
            capsys.readouterr().err
        assert cli.main([*promote, "--force"]) == 0 and Registry(str(copy)).alias(MODEL, "production").number == 2


def test_a_model_whose_calibration_failed_is_flagged_in_the_reports(
    tmp_path: Path, penguins_bundle: Path, labelled_rows: pa.Table, scorer: BundleModel
) -> None:
    """A calibration fitted on eval rows where the model is most confident when it is wrong cannot hold."""
    rng = np.random.default_rng(12)
    confident = rng.random(200) < 0.5
    labels = rng.integers(0, 3, 200)
    scores = np.full((200, 3), 0.2)
    scores[confident, (labels[confident] + 1) % 3] = 0.9  # confidently wrong
    scores[~confident, labels[~confident]] = 0.45  # hesitantly right
    failed = fit_calibration(scores / scores.sum(axis=1, keepdims=True), labels)
    assert not failed.ok and "above the limit" in failed.reason
    bundle = tmp_path / "bundle"
    shutil.copytree(penguins_bundle, bundle)
    bins = json.loads((bundle / BASELINE_DIR / BINS_FILE).read_text())
    (bundle / BASELINE_DIR / BINS_FILE).write_text(json.dumps({**bins, "calibration": failed.to_dict()}))
    registry = registry_of(str(tmp_path / "registry"), bundle, eval_info(scorer, labelled_rows), versions=1)
    log_uri = str(tmp_path / "log")
    serve(log_uri, draw(labelled_rows, 300, seed=13), scorer, START + timedelta(minutes=5))
    out = _outputs(tmp_path)
    result = _run(log_uri, registry, outputs=out)
    assert "calibration failed" in result.reason and result.decision == OK
    assert "calibration failed" in (tmp_path / "report.html").read_text()


def test_realized_regression_metrics_equal_the_evaluate_steps_and_weights_count() -> None:
    rng = np.random.default_rng(14)
    truth_values = rng.normal(10.0, 2.0, 400)
    predicted = truth_values + rng.normal(0.0, 1.0, 400)
    found = realized_regression(truth_values, predicted, np.ones(400))
    expected = regression_metrics(truth_values, predicted)
    for name in ("rmse", "mae", "r2"):
        interval = found.metrics[name]
        assert interval.value == pytest.approx(expected[name], abs=1e-12)
        assert interval.low < interval.value < interval.high
    doubled = realized_regression(np.r_[truth_values, truth_values[:100]], np.r_[predicted, predicted[:100]],
                                  np.ones(500))
    weighted = realized_regression(truth_values, predicted, np.r_[np.full(100, 2.0), np.ones(300)])
    assert weighted.metrics["rmse"].value == pytest.approx(doubled.metrics["rmse"].value, abs=1e-12)
