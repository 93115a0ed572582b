"""monitor's logic, free of KFP: read a window of the prediction log, measure drift per version, decide.

The production version decides: `insufficient data` when it served fewer than `min_rows` rows in the
window (never a retrain), `retrain` when a feature or the prediction drifted (naming them and the
measures), else `ok`. Other versions seen in the window (a canary, the previous production) are
measured against their own baselines and reported apart. Beside the drift measures, TFDV checks each
version's served rows against the schema in its own bundle (components/monitor/served_schema.py); its
anomalies are reported and named in the reason, but the decision stays with drift: an unseen category
that matters moves the `new` check, and a retrain on data the schema refuses would be refused by
validate anyway.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from components import keys
from components.errors import LooplineInputError
from components.lib.baseline import baseline_at
from components.lib.registry import PRODUCTION, Registry, Version
from components.monitor.drift import CHECKS, THRESHOLDS, FeatureDrift, version_drift
from components.monitor.log_reading import Window, read_served
from components.monitor.measures import MEASURES
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
    """One served version in the window: its rows, every feature's drift, and TFDV's schema anomalies."""

    version: str
    rows: int
    production: bool
    drift: list[FeatureDrift]
    anomalies: list[AnomalyRow] = field(default_factory=list)
    schema_checked_rows: int = 0  # rows TFDV's statistics were computed on (a sample above SAMPLE_ROWS)
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

    def to_json(self) -> str:
        """monitoring.json: every measure, floor, threshold and count, per version."""
        return json.dumps(asdict(self), indent=1)

    def scalar_metrics(self) -> dict[str, float]:
        """What KFP's Metrics artifact shows: production's rows, drifted features, TFDV anomalies and each measure's
        largest value."""
        production = next((v for v in self.versions if v.production), None)
        if production is None:
            return {"rows": 0.0}
        worst = {f"max_{m}": max(d.measures[m] for d in production.drift) for m in MEASURES}
        return {"rows": float(production.rows), "drifted_features": float(len(production.drifted())),
                "schema_anomalies": float(production.anomaly_count), **worst}


def _decide(production: VersionReport | None, min_rows: int, thresholds: dict[str, float]) -> tuple[str, str]:
    rows = production.rows if production else 0
    if rows < min_rows:
        return INSUFFICIENT, f"{rows:,} rows served by production in the window, fewer than the minimum {min_rows:,}"
    drifted = production.drifted()
    count = len(production.anomalies)
    also = (f"; also {count} TFDV schema {'anomaly' if count == 1 else 'anomalies'}: "
            + ", ".join(f"{a.feature} ({a.short})" for a in production.anomalies)) if production.anomalies else ""
    if drifted:
        return RETRAIN, f"drift on {rows:,} rows: " + ", ".join(d.describe(thresholds) for d in drifted) + also
    return OK, f"no drift on {rows:,} rows: every measure within its threshold or its noise floor" + also


def monitor(log_uri: str, model_name: str, registry_uri: str, window: Window,
            thresholds: dict[str, float] | None = None, min_rows: int = MIN_ROWS,
            outputs: MonitorOutputs | None = None, log: Callable[[str], None] = print) -> Monitoring:
    """Measure the window's served traffic of `model_name` against each version's baseline and decide;
    write monitoring.json and the summary into `outputs` when given (the component always gives them)."""
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
    reports = []
    for version, rows in sorted(served.items()):
        uri = _bundle_of(registry, model_name, version, production)
        own = baseline if version == str(production.number) else baseline_at(uri, version) if uri else None
        columns = {name: rows.column(name) for name in rows.values}
        schema = bundle_schema(uri) if uri else None
        reports.append(VersionReport(version, rows.rows, version == str(production.number),
                                     version_drift(own, columns, limits) if own else [],
                                     served_anomalies(schema, columns, rows.rows) if schema else [],
                                     min(rows.rows, SAMPLE_ROWS) if schema else 0))
    decision, reason = _decide(next((r for r in reports if r.production), None), min_rows, limits)
    log(f"monitor: {model_name} v{production.number}, window {window}: {decision}: {reason}")
    result = Monitoring(model_name, str(window), production.number, decision, reason, limits, min_rows, reports)
    if outputs is not None:
        write(result, outputs)
    return result


def _bundle_of(registry: Registry, model: str, version: str, production: Version) -> str | None:
    """Where a served version's bundle is, or None when the log names a version the registry does not hold."""
    if version == str(production.number):
        return production.uri
    if not version.isdigit():
        return None
    return registry.version(model, int(version)).uri


def write(result: Monitoring, outputs: MonitorOutputs) -> None:
    """monitoring.json into its folder, the Markdown summary and the HTML report beside it."""
    from components.monitor.html_report import report_html
    from components.monitor.report import summary_markdown

    outputs.monitoring_dir.mkdir(parents=True, exist_ok=True)
    (outputs.monitoring_dir / keys.MONITORING_FILE).write_text(result.to_json())
    outputs.report_path.write_text(summary_markdown(result))
    outputs.html_path.write_text(report_html(result))

