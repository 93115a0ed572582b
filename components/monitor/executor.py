"""monitor's logic, free of KFP: read a window of the prediction log, measure drift and performance per version,
decide.

The production version decides: `insufficient data` when it served fewer than `min_rows` rows in the
window (never a retrain), `retrain` when a feature or the prediction drifted (naming them and the
measures) or when its realized performance on the labels that came back is worse than its eval
metrics beyond the tolerance, or past a floor, by its whole interval (naming the metric), else `ok`.
Other versions seen in the window (a canary, the previous production) are measured against their own
baselines and reported apart, and two versions get a canary verdict (components/monitor/canary.py).
Beside the drift measures, TFDV checks each version's served rows against the schema in its own
bundle (components/monitor/served_schema.py); its anomalies and the estimate's warnings are
reported and named in the reason, but never decide alone: an unseen category that matters moves the
`new` check, and a retrain on data the schema refuses would be refused by validate anyway.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from components import keys
from components.errors import LooplineInputError
from components.lib.baseline import PREDICTION, Baseline, baseline_at
from components.lib.labels import labels_root, read_labels
from components.lib.model_card_store import write_card
from components.lib.registry import PRODUCTION, Registry, Version
from components.lib.registry_audit import MONITORED
from components.monitor.canary import CanaryVerdict, compare
from components.monitor.drift import CHECKS, THRESHOLDS, FeatureDrift, version_drift
from components.monitor.log_reading import Served, Window, parse_time, read_served
from components.monitor.measures import MEASURES
from components.monitor.performance import Performance, PerformanceSettings, performance
from components.monitor.served_schema import SAMPLE_ROWS, bundle_schema, served_anomalies
from components.validate.checks import AnomalyRow

RETRAIN, OK, INSUFFICIENT = "retrain", "ok", "insufficient data"
MIN_ROWS = 500


@dataclass(frozen=True)
class MonitorOutputs:
    """Where monitor writes: its folder (monitoring.json), the Markdown summary and the HTML report."""

    monitoring_dir: Path
    report_path: Path
    html_path: Path


@dataclass(frozen=True)
class VersionReport:
    """One served version in the window: its rows and traffic share, every feature's drift, TFDV's schema anomalies
    and its performance."""

    version: str
    rows: int
    production: bool
    drift: list[FeatureDrift]
    anomalies: list[AnomalyRow] = field(default_factory=list)
    schema_checked_rows: int = 0  # rows TFDV's statistics were computed on (a sample above SAMPLE_ROWS)
    traffic_share: float = 0.0  # of the rows served in the window (each logged row weighed 1 / its sample rate)
    predictions: dict[str, float] = field(default_factory=dict)  # share of served rows per prediction bin
    performance: Performance | None = None
    anomaly_count: int = field(init=False)  # len(anomalies), written to monitoring.json for readers without jq

    def __post_init__(self) -> None:
        """Fill the count from the list, so the two cannot disagree."""
        object.__setattr__(self, "anomaly_count", len(self.anomalies))

    def drifted(self) -> list[FeatureDrift]:
        """The features (and prediction) that drifted."""
        return [d for d in self.drift if d.drifted]


@dataclass(frozen=True)
class Monitoring:
    """The window's decision and everything measured, per version."""

    model: str
    window: str
    production_version: int
    decision: str
    reason: str
    thresholds: dict[str, float]
    min_rows: int
    versions: list[VersionReport] = field(default_factory=list)
    settings: PerformanceSettings = PerformanceSettings()
    labels_uri: str = ""  # the labels store that was joined
    canary: CanaryVerdict | None = None
    labels_window: str = ""  # the window shifted back by the maturity: the rows realized metrics are measured on

    @property
    def window_seconds(self) -> float:
        """The window's length, parsed back from its text (`since .. until`)."""
        since, until = (parse_time(part) for part in self.window.split(" .. "))
        return (until - since).total_seconds()

    def to_json(self) -> str:
        """monitoring.json: every measure, floor, threshold and count, per version."""
        return json.dumps(asdict(self), indent=1)

    def scalar_metrics(self) -> dict[str, float]:
        """What KFP's Metrics artifact shows: production's rows, drifted features, TFDV anomalies, each measure's
        largest value, label coverage and the realized and estimated metrics."""
        production = next((v for v in self.versions if v.production), None)
        if production is None:
            return {"rows": 0.0}
        # No drift entries when production served nothing in the window (it is reported for its labels' window).
        worst = {f"max_{m}": max(d.measures[m] for d in production.drift) for m in MEASURES} if production.drift else {}
        return {"rows": float(production.rows), "drifted_features": float(len(production.drifted())),
                "schema_anomalies": float(production.anomaly_count), **worst, **_performance_metrics(production)}


def _performance_metrics(version: VersionReport) -> dict[str, float]:
    """Label coverage, realized and estimated metrics of a version, for KFP's Metrics artifact."""
    judged = version.performance
    if judged is None:
        return {}
    found = {"labelled_rows": float(judged.labelled_rows)}
    if judged.label_coverage is not None:
        found["label_coverage"] = judged.label_coverage
    for kind, measured in (("realized", judged.realized), ("estimated", judged.estimated)):
        for metric, interval in (measured.metrics.items() if measured else []):
            if interval.value is not None:
                found[f"{kind}_{metric}"] = interval.value
    return found


def _also(production: VersionReport) -> str:
    """What is reported beside the decision: TFDV's anomalies and the estimate's warnings."""
    count = production.anomaly_count
    parts = ([f"{count} TFDV schema {'anomaly' if count == 1 else 'anomalies'}: "
              + ", ".join(f"{a.feature} ({a.short})" for a in production.anomalies)] if count else [])
    parts += production.performance.warnings if production.performance else []
    return "".join(f"; also {part}" for part in parts)


def _decide(production: VersionReport | None, min_rows: int, thresholds: dict[str, float]) -> tuple[str, str]:
    rows = production.rows if production else 0
    if rows < min_rows:
        return INSUFFICIENT, f"{rows:,} rows served by production in the window, fewer than the minimum {min_rows:,}"
    drifted = production.drifted()
    worse = production.performance.degradations if production.performance else []
    found = ([f"drift on {rows:,} rows: " + ", ".join(d.describe(thresholds) for d in drifted)] if drifted else []) \
        + [f"performance: {text}" for text in worse]
    if found:
        return RETRAIN, "; ".join(found) + _also(production)
    return OK, (f"no drift on {rows:,} rows: every measure within its threshold or its noise floor"
                + ("; realized performance within tolerance" if production.performance
                   and production.performance.realized else "") + _also(production))


def monitor(log_uri: str, model_name: str, registry_uri: str, window: Window,
            thresholds: dict[str, float] | None = None, min_rows: int = MIN_ROWS,
            outputs: MonitorOutputs | None = None, log: Callable[[str], None] = print,
            settings: PerformanceSettings = PerformanceSettings(), run: str = "") -> Monitoring:
    """Measure the window's served traffic of `model_name` against each version's baseline, join the labels (the
    store inside the prediction log that `loopline feedback` writes) and decide; write monitoring.json and the
    reports into `outputs` when given (the component always gives them). The window and its decision become a
    `monitored` event of the production version (by `run`) and a line of its model card."""
    limits = {**THRESHOLDS, **(thresholds or {})}
    unknown = sorted(set(limits) - set(CHECKS))
    if unknown:
        raise LooplineInputError(f"unknown drift check(s) {unknown}; checks: {', '.join(CHECKS)}")
    registry = Registry(registry_uri)
    production = registry.alias(model_name, PRODUCTION)
    if production is None:
        raise LooplineInputError(f"model {model_name!r} has no production version in registry {registry_uri}")
    baseline = baseline_at(production.uri, str(production.number))
    served = read_served(log_uri, model_name, window, baseline)
    labelled_window = window.earlier(settings.maturity_hours)
    matured = read_served(log_uri, model_name, labelled_window, baseline) if settings.maturity_hours else served
    labels = read_labels(log_uri, model_name, labelled_window.since)
    total = sum(float(s.weights().sum()) for s in served.values()) or 1.0
    reports = []
    for version in sorted(set(served) | set(matured)):
        found = _version_of(registry, model_name, version, production)
        own = baseline if version == str(production.number) else baseline_at(found.uri, version) if found else None
        reports.append(_report(served.get(version, Served(version)), matured.get(version, Served(version)), own,
                               found, version == str(production.number), limits, labels, settings, total))
    canary = compare({r.version: (r.traffic_share, r.predictions, r.performance) for r in reports if r.performance},
                     settings.performance_tolerance, settings.min_labels)
    report = next((r for r in reports if r.production), None)
    decision, reason = _decide(report, min_rows, limits)
    log(f"monitor: {model_name} v{production.number}, window {window}: {decision}: {reason}")
    result = Monitoring(model_name, str(window), production.number, decision, reason, limits, min_rows, reports,
                        settings, labels_root(log_uri), canary, str(labelled_window))
    if outputs is not None:
        write(result, outputs)
    registry.record(model_name, MONITORED, production.number, run, reason,
                    {"window": str(window), "rows": report.rows if report else 0, "decision": decision,
                     "monitoring_run": run, "drifted": [d.name for d in report.drifted()] if report else []})
    write_card(registry, model_name, production.number)
    return result


def _report(rows: Served, matured: Served, own: Baseline | None, found: Version | None, production: bool,
            limits: dict[str, float], labels: pa.Table, settings: PerformanceSettings, total: float) -> VersionReport:
    """One version's drift, schema anomalies, traffic share, prediction shares (of the window's rows) and
    performance (realized on its matured rows)."""
    columns = {name: rows.column(name) for name in rows.values}
    schema = bundle_schema(found.uri) if found and rows.rows else None
    drift = version_drift(own, columns, limits) if own and rows.rows else []
    predicted = next((d for d in drift if d.name == PREDICTION), None)
    shares = ({label: n / max(sum(predicted.served_counts), 1) for label, n in zip(predicted.labels,
               predicted.served_counts)} if predicted else {})
    judged = performance(rows, matured, labels, own, found.info, settings) if own and found else None
    return VersionReport(rows.version, rows.rows, production, drift,
                         served_anomalies(schema, columns, rows.rows) if schema else [],
                         min(rows.rows, SAMPLE_ROWS) if schema else 0,
                         float(rows.weights().sum()) / total, shares, judged)


def _version_of(registry: Registry, model: str, version: str, production: Version) -> Version | None:
    """A served version's registry entry, or None when the log names a version the registry does not hold."""
    if version == str(production.number):
        return production
    if not version.isdigit():
        return None
    return registry.version(model, int(version))


def write(result: Monitoring, outputs: MonitorOutputs) -> None:
    """monitoring.json and metrics.prom (Prometheus' text format) into its folder, the Markdown summary and the HTML
    report beside it."""
    from components.monitor.exposition import write_exposition
    from components.monitor.html_report import report_html
    from components.monitor.report import summary_markdown

    outputs.monitoring_dir.mkdir(parents=True, exist_ok=True)
    (outputs.monitoring_dir / keys.MONITORING_FILE).write_text(result.to_json())
    write_exposition(result, outputs.monitoring_dir)
    outputs.report_path.write_text(summary_markdown(result))
    outputs.html_path.write_text(report_html(result))

