"""The monitor step's metrics, pushed to a real Pushgateway: its /metrics holds every series the alert rules query.

A real monitoring run (real bundle, two served versions, labels in the store, a floor in the
registry) is pushed through the component's own code to Debian's prometheus-pushgateway started by
the session fixture; the series are then read back as Prometheus would scrape them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from manifest_metrics import exported, kustomize, queries
from prometheus_client.parser import text_string_to_metric_families

from components.lib.inference import BundleModel
from components.lib.serving import fetch_text
from components.monitor.executor import Monitoring, MonitorOutputs, monitor
from components.monitor.exposition import EXPOSITION_FILE, JOB, push
from components.monitor.log_reading import Window
from components.monitor.performance import PerformanceSettings
from loopline import paths
from support.served_labels import MODEL, eval_info, label, registry_of, serve
from support.traffic import draw

START = datetime(2026, 12, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory, penguins_bundle: Path, scorer: BundleModel,
              labelled_rows: pa.Table) -> tuple[Monitoring, Path]:
    """A monitoring run over production v1 and canary v2, both labelled; its output folder."""
    root = tmp_path_factory.mktemp("push")
    registry = registry_of(str(root / "registry"), penguins_bundle, eval_info(scorer, labelled_rows))
    log_uri = str(root / "log")
    for version, seed in (("1", 1), ("2", 2)):
        rows = draw(labelled_rows, 300, seed=seed)
        label(log_uri, serve(log_uri, rows, scorer, START + timedelta(minutes=5), version),
              rows.column("species").to_pylist())
    outputs = MonitorOutputs(root / "monitoring", root / "summary.md", root / "report.html")
    result = monitor(log_uri, MODEL, registry, Window(START, START + timedelta(hours=1)), min_rows=100,
                     outputs=outputs, settings=PerformanceSettings(maturity_hours=0.0), log=lambda _: None)
    return result, root / "monitoring"


def _queried() -> set[str]:
    """Every loopline_monitor_* metric an alert rule of the base manifests queries."""
    objects = kustomize(paths.ROOT / "manifests" / "base")
    return {metric for where, refs in queries(objects) if where.startswith("PrometheusRule")
            for metric in refs.metrics if metric.startswith("loopline_monitor_")}


def test_the_pushgateway_receives_every_series_the_rules_query(
    monitored: tuple[Monitoring, Path], pushgateway: str
) -> None:
    result, _ = monitored
    logged: list[str] = []
    assert push(result, pushgateway, log=logged.append), logged
    scraped = fetch_text(f"{pushgateway}/metrics")
    series = exported(scraped)
    wanted = _queried()
    # A classifier has floors only: the ceiling (max_rmse, max_mae) is a regression's, tested in test_exposition.
    assert len(wanted) >= 8 and wanted - set(series) == {"loopline_monitor_performance_ceiling"}, wanted - set(series)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(scraped) for s in family.samples}
    at = (("job", JOB), ("model", MODEL))

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted({**dict(at), "instance": "", **labels}.items())))]

    production = result.versions[0].performance
    assert value("loopline_monitor_performance", version="1", role="production", metric="accuracy",
                 kind="realized") == pytest.approx(production.realized.metrics["accuracy"].value)
    assert value("loopline_monitor_performance_floor", metric="accuracy") == 0.9
    assert value("loopline_monitor_label_coverage", version="2", role="other") == 1.0
    assert value("loopline_monitor_canary_verdict", canary="2", stable="1", verdict=result.canary.verdict) == 1.0
    assert value("loopline_monitor_window_seconds") == 3600.0
    assert value("loopline_monitor_drift_threshold", measure="psi") == 0.2


def test_an_unreachable_pushgateway_is_a_line_not_a_failure(monitored: tuple[Monitoring, Path]) -> None:
    from components.lib.serving import free_port

    logged: list[str] = []
    assert not push(monitored[0], f"http://127.0.0.1:{free_port()}", log=logged.append)
    assert logged and "could not push the metrics" in logged[0]


def test_the_exposition_file_is_always_written_and_parses(monitored: tuple[Monitoring, Path]) -> None:
    result, folder = monitored
    text = (folder / EXPOSITION_FILE).read_text()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert "loopline_monitor_drift" in names and "loopline_monitor_last_success_timestamp_seconds" in names
    drift = [s for family in text_string_to_metric_families(text) if family.name == "loopline_monitor_drift"
             for s in family.samples]
    features = {d.name for v in result.versions for d in v.drift}
    assert {s.labels["feature"] for s in drift} == features and len(drift) == len(features) * 5 * 2
