"""monitor's HTML report, self-contained and offline: the decision first, the canary verdict, then per version its
performance (realized with intervals, estimated, per class) and per feature the training vs served share of every
frozen bin beside the measures against their thresholds and floors."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from components.monitor import performance_rows
from components.monitor.drift import CHECKS, FeatureDrift
from components.monitor.measures import MEASURES

if TYPE_CHECKING:
    from components.monitor.executor import Monitoring, VersionReport

STYLE = """body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{margin-bottom:.2em}.decision{font-size:1.3em;padding:.6em 1em;border-radius:6px;margin:1em 0}
.retrain{background:#fde2e1}.ok{background:#e3f4e1}.insufficient{background:#eee}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}
td.n{text-align:right;font-variant-numeric:tabular-nums}.flag{color:#b00020;font-weight:600}
.bar{display:inline-block;height:10px;vertical-align:middle}.train{background:#7aa6d6}.served{background:#e8a33d}
section{border-top:2px solid #ddd;padding-top:.5em}"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _measures(drift: FeatureDrift, thresholds: dict[str, float]) -> str:
    cells = "".join(
        f"<tr><td>{m}</td><td class='n{' flag' if m in drift.drifted_by else ''}'>{drift.measures[m]:.4f}</td>"
        f"<td class='n'>{thresholds[m]:g}</td><td class='n'>{drift.floors[m]:.4f}</td></tr>" for m in MEASURES)
    new = sum(drift.new_values.values())
    cells += (f"<tr><td>new</td><td class='n{' flag' if 'new' in drift.drifted_by else ''}'>{new:.4f}</td>"
              f"<td class='n'>{thresholds['new']:g}</td><td class='n'>0</td></tr>")
    return f"<table><tr><th>check</th><th>value</th><th>threshold</th><th>noise floor</th></tr>{cells}</table>"


def _bins(drift: FeatureDrift) -> str:
    train_total, served_total = max(sum(drift.train_counts), 1), max(sum(drift.served_counts), 1)
    rows = []
    for label, trained, served in zip(drift.labels, drift.train_counts, drift.served_counts):
        p, q = trained / train_total, served / served_total
        rows.append(f"<tr><td>{_e(label)}</td><td class='n'>{p:.1%}</td><td class='n'>{q:.1%}</td><td>"
                    f"<span class='bar train' style='width:{p * 300:.0f}px'></span><br>"
                    f"<span class='bar served' style='width:{q * 300:.0f}px'></span></td></tr>")
    return ("<table><tr><th>bin</th><th>training</th><th>served</th><th>"
            "<span class='bar train' style='width:12px'></span> training "
            "<span class='bar served' style='width:12px'></span> served</th></tr>" + "".join(rows) + "</table>")


def _anomalies(version: VersionReport) -> str:
    """TFDV's schema check of the served rows: its anomalies as a table, or a line saying there are none."""
    if not version.schema_checked_rows:
        return "<p>TFDV schema check: not run (no schema in this version's bundle).</p>"
    checked = f"TFDV schema check on {version.schema_checked_rows:,} rows"
    if not version.anomalies:
        return f"<p>{checked}: no anomalies.</p>"
    rows = "".join(f"<tr><td>{_e(a.feature)}</td><td class='flag'>{_e(a.short)}</td><td>{_e(a.description)}</td></tr>"
                   for a in version.anomalies)
    count = len(version.anomalies)
    return (f"<h3 class='schema'>{checked}: {count} {'anomaly' if count == 1 else 'anomalies'}</h3>"
            f"<table><tr><th>feature</th><th>anomaly</th><th>detail</th></tr>{rows}</table>")


def _table(found: performance_rows.Table) -> str:
    headers, rows = found
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _performance(version: VersionReport, result: Monitoring) -> str:
    """The version's labels, realized vs estimated metrics, per-class rates and findings."""
    judged = version.performance
    if judged is None:
        return ""
    found = "".join(f"<li class='flag'>{_e(text)}</li>" for text in performance_rows.findings(judged))
    classes = _table(performance_rows.class_table(judged)) if judged.task == "classification" else ""
    labels = performance_rows.labels_line(judged, result.settings.maturity_hours, result.labels_window)
    return (f"<h3 class='performance'>Performance</h3><p>{_e(labels)}</p>"
            f"{_table(performance_rows.metric_table(judged))}{classes}" + (f"<ul>{found}</ul>" if found else ""))


def _canary(result: Monitoring) -> str:
    if result.canary is None:
        return ""
    css = {"promote": "ok", "roll back": "retrain"}.get(result.canary.verdict, "insufficient")
    return (f"<section><h2>{_e(performance_rows.canary_title(result.canary))}</h2><div class='decision {css}'>"
            f"{_e(result.canary.reason)}</div>{_table(performance_rows.canary_table(result.canary))}</section>")


def _version(version: VersionReport, result: Monitoring) -> str:
    role = "production" if version.production else "other version"
    parts = [f"<section><h2>v{_e(version.version)} ({role}): {version.rows:,} rows, {version.traffic_share:.1%} of "
             f"the traffic</h2>", _performance(version, result), _anomalies(version)]
    for drift in version.drift:
        flag = f" <span class='flag'>drifted: {_e(', '.join(drift.drifted_by))}</span>" if drift.drifted else ""
        parts.append(f"<h3>{_e(drift.name)}{flag}</h3>{_measures(drift, result.thresholds)}{_bins(drift)}")
    return "".join(parts) + "</section>"


def report_html(result: Monitoring) -> str:
    """The whole page (no scripts, no external resources)."""
    css = {"retrain": "retrain", "ok": "ok"}.get(result.decision, "insufficient")
    limits = ", ".join(f"{c} {result.thresholds[c]:g}" for c in CHECKS)
    body = (f"<h1>Monitoring: {_e(result.model)}</h1><div class='decision {css}'><b>{_e(result.decision)}</b>: "
            f"{_e(result.reason)}</div><p>Production v{result.production_version}, window {_e(result.window)}. "
            f"Thresholds: {_e(limits)}. A check flags a feature above its threshold and above its noise floor (the "
            "value the training distribution reaches by chance at these sample sizes).</p>"
            + _canary(result) + "".join(_version(v, result) for v in result.versions))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Monitoring {_e(result.model)}"
            f"</title><style>{STYLE}</style></head><body>{body}</body></html>\n")
