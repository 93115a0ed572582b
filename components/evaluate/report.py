"""evaluate's Markdown report: the decision, candidate vs production, feature importance, metrics per slice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from components.evaluate.slices import slices_markdown
from components.lib import markdown
from components.lib.bundle import CLASSIFICATION, REGRESSION

if TYPE_CHECKING:
    from components.evaluate.executor import Evaluation

# The metrics a report and a log line show first, per task.
HEADLINE = {CLASSIFICATION: ("accuracy", "macro_f1", "macro_roc_auc", "log_loss"), REGRESSION: ("rmse", "mae", "r2")}


def report_markdown(evaluation: Evaluation) -> str:
    """The evaluate report: decision, candidate vs production, feature importance, then metrics per slice."""
    verdict = "**Approved**" if evaluation.decision.approved else "**Not approved**"
    baseline = f"production v{evaluation.production_version}" if evaluation.production_version else "production"
    lines = ["# Evaluation", "", f"{verdict}: {evaluation.decision.reason}", ""]
    lines += [f"| metric | candidate | {baseline} |", "| --- | ---: | ---: |"]
    for name in HEADLINE[evaluation.task]:
        theirs = (evaluation.production or {}).get(name)
        lines.append(f"| {name} | {_num(evaluation.candidate.get(name))} | {_num(theirs)} |")
    lines += [""] + [f"- {note}" for note in evaluation.notes + evaluation.candidate.get("notes", [])]
    if evaluation.feature_importance:
        lines += ["", _importance_markdown(evaluation.feature_importance)]
    if evaluation.slices:
        lines += ["", slices_markdown(evaluation.slices, evaluation.task, "Metrics per slice")]
    return "\n".join(lines) + "\n"


def _importance_markdown(importance: dict[str, Any]) -> str:
    """The candidate's global feature importance as a table, largest first, with what the numbers are."""
    cells = [[markdown.cell(name), _num(value)] for name, value in importance["features"].items()]
    return "\n".join(["# Feature importance", "",
                      f"{importance['method']} ({importance['target']}; {importance['steps']} steps, "
                      f"first {importance['rows']:,} labelled eval rows)", "",
                      *markdown.table(("feature", "importance"), cells, align="lr")])


def _num(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.4g}"
