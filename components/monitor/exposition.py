"""monitor's results as Prometheus metrics: a text exposition file in its outputs, and a push to a Pushgateway.

A monitoring run is a batch job, so Prometheus cannot scrape it: it pushes its gauges to a
Pushgateway (job `loopline-monitor`, grouping key {model}, each push replacing the model's previous
group), which Prometheus scrapes with honor_labels; the alert rules in manifests/ query these names.
`METRICS` is the contract: every name with its labels and help, read by the manifests' tests too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

from components.monitor.drift import CHECKS

if TYPE_CHECKING:
    from components.monitor.executor import Monitoring, VersionReport

JOB = "loopline-monitor"
EXPOSITION_FILE = "metrics.prom"
PUSH_TIMEOUT_SECONDS = 10.0
_VERSION = ("model", "version", "role")

METRICS: dict[str, tuple[tuple[str, ...], str]] = {
    "loopline_monitor_last_success_timestamp_seconds": (("model",), "Unix time of the last successful monitor run."),
    "loopline_monitor_window_seconds": (("model",), "Length of the run's window: the schedule period."),
    "loopline_monitor_rows": (_VERSION, "Logged rows of the version in the window."),
    "loopline_monitor_drift": ((*_VERSION, "feature", "measure"), "Drift of a feature (or the prediction)."),
    "loopline_monitor_drift_threshold": (("model", "measure"), "The threshold of a drift check."),
    "loopline_monitor_drift_noise_floor": ((*_VERSION, "feature", "measure"),
                                           "What the training distribution reaches by chance at the window's size."),
    "loopline_monitor_performance": ((*_VERSION, "metric", "kind"), "Realized or estimated metric of the version."),
    "loopline_monitor_performance_low": ((*_VERSION, "metric", "kind"), "The metric's 95% interval, low end."),
    "loopline_monitor_performance_high": ((*_VERSION, "metric", "kind"), "The metric's 95% interval, high end."),
    "loopline_monitor_performance_floor": (("model", "metric"), "A production floor (evaluate's min_<metric>)."),
    "loopline_monitor_performance_ceiling": (("model", "metric"), "A production ceiling (evaluate's max_<metric>)."),
    "loopline_monitor_label_coverage": (_VERSION, "Labelled share of the rows old enough to have labels."),
    "loopline_monitor_mature_rows": (_VERSION, "Logged rows older than the labels' maturity window."),
    "loopline_monitor_labelled_rows": (_VERSION, "Logged rows joined to a label."),
    "loopline_monitor_decision": (("model", "decision"), "1 for the run's decision."),
    "loopline_monitor_calibration_ok": (_VERSION, "1 when the version's calibration held at training time."),
    "loopline_monitor_canary_verdict": (("model", "canary", "stable", "verdict"), "1 for the canary verdict."),
}


def _version_series(gauges: dict[str, Gauge], model: str, report: VersionReport) -> None:
    """One version's rows, drift, labels, calibration and metrics."""
    at = (model, report.version, "production" if report.production else "other")
    gauges["loopline_monitor_rows"].labels(*at).set(report.rows)
    for drift in report.drift:
        for measure in CHECKS:
            value = sum(drift.new_values.values()) if measure == "new" else drift.measures[measure]
            gauges["loopline_monitor_drift"].labels(*at, drift.name, measure).set(value)
            gauges["loopline_monitor_drift_noise_floor"].labels(*at, drift.name, measure).set(
                drift.floors.get(measure, 0.0))
    judged = report.performance
    if judged is None:
        return
    gauges["loopline_monitor_mature_rows"].labels(*at).set(judged.mature_rows)
    gauges["loopline_monitor_labelled_rows"].labels(*at).set(judged.labelled_rows)
    if judged.label_coverage is not None:
        gauges["loopline_monitor_label_coverage"].labels(*at).set(judged.label_coverage)
    if judged.estimated is not None:
        gauges["loopline_monitor_calibration_ok"].labels(*at).set(1.0 if judged.estimated.calibration_ok else 0.0)
    for kind, measured in (("realized", judged.realized), ("estimated", judged.estimated)):
        for metric, found in (measured.metrics.items() if measured else []):
            for suffix, value in (("", found.value), ("_low", found.low), ("_high", found.high)):
                if value is not None:
                    gauges[f"loopline_monitor_performance{suffix}"].labels(*at, metric, kind).set(value)


def metrics_registry(result: Monitoring, finished: float | None = None) -> CollectorRegistry:
    """Every gauge of one run, in a registry of its own (nothing of this process's default registry)."""
    registry = CollectorRegistry()
    gauges = {name: Gauge(name, text, labels, registry=registry) for name, (labels, text) in METRICS.items()}
    model = result.model
    gauges["loopline_monitor_last_success_timestamp_seconds"].labels(model).set(finished or time.time())
    gauges["loopline_monitor_window_seconds"].labels(model).set(result.window_seconds)
    gauges["loopline_monitor_decision"].labels(model, result.decision).set(1.0)
    for measure, limit in result.thresholds.items():
        gauges["loopline_monitor_drift_threshold"].labels(model, measure).set(limit)
    production = next((v for v in result.versions if v.production and v.performance), None)
    for name, limit in (production.performance.limits.items() if production else []):
        kind = "floor" if name.startswith("min_") else "ceiling"
        gauges[f"loopline_monitor_performance_{kind}"].labels(model, name.split("_", 1)[1]).set(limit)
    for report in result.versions:
        _version_series(gauges, model, report)
    if result.canary is not None:
        gauges["loopline_monitor_canary_verdict"].labels(model, result.canary.canary, result.canary.stable,
                                                         result.canary.verdict).set(1.0)
    return registry


def write_exposition(result: Monitoring, folder: Path) -> Path:
    """The run's metrics in Prometheus' text format, `metrics.prom` in `folder` (written whole, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / EXPOSITION_FILE
    write_to_textfile(str(path), metrics_registry(result))
    return path


def push(result: Monitoring, gateway: str, log: Callable[[str], None] = print) -> bool:
    """Push the run's metrics to the Pushgateway at `gateway` (replacing the model's group); False, with a line
    saying why, when it cannot be reached: the run's results stand, and the staleness alert tells."""
    try:
        push_to_gateway(gateway, job=JOB, registry=metrics_registry(result), grouping_key={"model": result.model},
                        timeout=PUSH_TIMEOUT_SECONDS)
    except OSError as err:
        log(f"monitor: could not push the metrics to the Pushgateway {gateway}: {err}")
        return False
    log(f"monitor: metrics pushed to {gateway} (job {JOB}, model {result.model})")
    return True
