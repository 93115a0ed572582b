"""monitor's Markdown summary for the KFP UI: the decision first, the canary verdict, then per version each
feature's measures against their thresholds and noise floors, TFDV's anomalies and the performance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.lib import markdown
from components.monitor import performance_rows
from components.monitor.measures import MEASURES

if TYPE_CHECKING:
    from components.monitor.executor import Monitoring, VersionReport


def summary_markdown(result: Monitoring) -> str:
    """The summary: decision and reason, window, then one table per served version."""
    lines = ["# Monitoring", "", f"**{result.decision}**: {markdown.cell(result.reason)}", "",
             f"Model `{markdown.cell(result.model)}`, production v{result.production_version}, window {result.window}. "
             "A measure flags a feature when it is above its threshold and above its noise floor (the value the "
             "training distribution reaches on a sample of the window's size).", ""]
    limits = ", ".join(f"{m} {result.thresholds[m]:g}" for m in MEASURES)
    lines += [f"Thresholds: {limits}.", ""]
    if result.canary is not None:
        lines += [f"## {markdown.cell(performance_rows.canary_title(result.canary))}", "",
                  markdown.cell(result.canary.reason), "", *_table(performance_rows.canary_table(result.canary)), ""]
    for version in result.versions:
        role = "production" if version.production else "other version"
        lines += [f"## v{markdown.cell(version.version)} ({role}): {version.rows:,} rows", ""]
        headers = ["feature", *[f"{m} (floor)" for m in MEASURES], "drifted by"]
        rows = [[markdown.cell(d.name), *[f"{d.measures[m]:.4f} ({d.floors[m]:.4f})" for m in MEASURES],
                 markdown.cell(", ".join(d.drifted_by) or "—")] for d in version.drift]
        lines += markdown.table(headers, rows, "l" + "r" * len(MEASURES)) + [""]
        lines += _anomalies(version) + [""]
        lines += _performance(version, result)
    return "\n".join(lines)


def _table(found: performance_rows.Table) -> list[str]:
    headers, rows = found
    return markdown.table(headers, [[markdown.cell(c) for c in row] for row in rows])


def _performance(version: VersionReport, result: Monitoring) -> list[str]:
    """The version's labels, realized and estimated metrics, per-class rates and findings."""
    judged = version.performance
    if judged is None:
        return []
    lines = ["### Performance", "", markdown.cell(performance_rows.labels_line(judged, result.settings.maturity_hours,
                                                                               result.labels_window)), ""]
    lines += _table(performance_rows.metric_table(judged)) + [""]
    if judged.task == "classification":
        lines += _table(performance_rows.class_table(judged)) + [""]
    return lines + [f"- {markdown.cell(text)}" for text in performance_rows.findings(judged)] + [""]


def _anomalies(version: VersionReport) -> list[str]:
    """TFDV's schema check of the version's served rows: a table of anomalies, or a line saying there are none."""
    if not version.schema_checked_rows:
        return ["TFDV schema check: not run (no schema in this version's bundle)."]
    checked = f"TFDV schema check on {version.schema_checked_rows:,} rows"
    if not version.anomalies:
        return [f"{checked}: no anomalies."]
    rows = [[markdown.cell(a.feature), markdown.cell(a.short), markdown.cell(a.description)]
            for a in version.anomalies]
    count = len(version.anomalies)
    return [f"{checked}: {count} {'anomaly' if count == 1 else 'anomalies'}.", "",
            *markdown.table(["feature", "anomaly", "detail"], rows)]
