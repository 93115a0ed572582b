"""The performance and canary tables as plain rows of text, once, for both reports (Markdown and HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.monitor.intervals import Interval

if TYPE_CHECKING:
    from components.monitor.canary import CanaryVerdict
    from components.monitor.estimate import Estimated
    from components.monitor.performance import Performance

Table = tuple[list[str], list[list[str]]]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _estimate(found: Interval | None, error: float) -> str:
    if found is None or found.value is None:
        return "—"
    return f"{found.value:.3f} ± {error:.3f}" if found.low is not None else f"{found.value:.3f}"


def labels_line(judged: Performance, maturity_hours: float, labels_window: str) -> str:
    """Which rows realized metrics are measured on, how many have labels, and the coverage."""
    where = (f"the rows served {maturity_hours:g} h before this window ({labels_window}), which have had that long "
             "to get one" if maturity_hours else "the rows of this window")
    coverage = "—" if judged.label_coverage is None else f"{judged.label_coverage:.1%}"
    unusable = (f"; {judged.unusable_labels:,} labels outside the classes were left out" if judged.unusable_labels
                else "")
    return (f"Labels of {where}: {judged.labelled_rows:,} of {judged.mature_rows:,} labelled, coverage "
            f"{coverage}{unusable}.")


def _estimated(found: Estimated | None, metric: str) -> str:
    return _estimate(found.metrics.get(metric), found.error) if found else "—"


def metric_table(judged: Performance) -> Table:
    """Per metric: the version's eval figure, realized with its interval, the estimate of the same labelled rows,
    and the estimate of the window, each with its stated error."""
    names = list(judged.realized.metrics) if judged.realized else []
    names += [m for m in (judged.estimated.metrics if judged.estimated else {}) if m not in names]
    rows = [[m, _rate(judged.reference.get(m)),
             judged.realized.metrics[m].shown() if judged.realized and m in judged.realized.metrics else "—",
             _estimated(judged.estimated_labelled, m), _estimated(judged.estimated, m)] for m in names]
    return ["metric", "eval (registry)", "realized [95%]", "estimated, labelled rows", "estimated, window"], rows


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
