"""The performance and canary tables as plain rows of text, once, for both reports (Markdown and HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.monitor.intervals import Interval

if TYPE_CHECKING:
    from components.monitor.canary import CanaryVerdict
    from components.monitor.performance import Performance

Table = tuple[list[str], list[list[str]]]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _estimate(found: Interval | None, error: float) -> str:
    if found is None or found.value is None:
        return "—"
    return f"{found.value:.3f} ± {error:.3f}" if found.low is not None else f"{found.value:.3f}"


def labels_line(judged: Performance, maturity_hours: float) -> str:
    """How many rows have labels, and the coverage of those old enough to have them."""
    coverage = ("no rows old enough yet" if judged.label_coverage is None
                else f"{judged.label_coverage:.1%} of the {judged.mature_rows:,} rows older than {maturity_hours:g} h")
    unusable = (f"; {judged.unusable_labels:,} labels outside the classes were left out" if judged.unusable_labels
                else "")
    return f"Labels: {judged.labelled_rows:,} of {judged.rows:,} logged rows labelled; coverage {coverage}{unusable}."


def metric_table(judged: Performance) -> Table:
    """Per metric: the version's eval figure, realized with its interval, estimated with its stated error."""
    names = list(judged.realized.metrics) if judged.realized else []
    names += [m for m in (judged.estimated.metrics if judged.estimated else {}) if m not in names]
    rows = [[m, _rate(judged.reference.get(m)),
             judged.realized.metrics[m].shown() if judged.realized and m in judged.realized.metrics else "—",
             _estimate(judged.estimated.metrics.get(m), judged.estimated.error) if judged.estimated else "—"]
            for m in names]
    return ["metric", "eval (registry)", "realized [95%]", "estimated"], rows


def class_table(judged: Performance) -> Table:
    """Per class (classification): realized and estimated recall and precision."""
    classes = list(judged.realized.per_class) if judged.realized and judged.realized.per_class else (
        list(judged.estimated.per_class) if judged.estimated else [])
    rows = []
    for name in classes:
        realized = judged.realized.per_class.get(name, {}) if judged.realized else {}
        estimated = judged.estimated.per_class.get(name, {}) if judged.estimated else {}
        rows.append([name, *[realized[r].shown() if r in realized else "—" for r in ("recall", "precision")],
                     *[_rate(estimated.get(r)) for r in ("recall", "precision")]])
    return ["class", "realized recall", "realized precision", "estimated recall", "estimated precision"], rows


def findings(judged: Performance) -> list[str]:
    """Degradations (retrain reasons) first, then the estimate's warnings."""
    return [f"degraded: {text}" for text in judged.degradations] + [f"warning: {text}" for text in judged.warnings]


def canary_title(verdict: CanaryVerdict) -> str:
    return f"canary v{verdict.canary} vs stable v{verdict.stable}: {verdict.verdict}"


def canary_table(verdict: CanaryVerdict) -> Table:
    """Both versions side by side: traffic share, prediction distribution, realized and estimated headline metric."""
    rows = [[f"v{side.version}", f"{side.traffic_share:.1%}",
             ", ".join(f"{label} {share:.0%}" for label, share in side.predictions.items() if share > 0) or "—",
             side.realized.shown() if side.realized else "—", side.estimated.shown() if side.estimated else "—"]
            for side in verdict.sides]
    return ["version", "traffic", "predictions", f"realized {verdict.metric}", f"estimated {verdict.metric}"], rows
