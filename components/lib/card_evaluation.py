"""A model card's evaluation and explanations sections: headline metrics, the confusion matrix, per class, per
slice, the comparison with the production version it was judged against, the decision; global feature importance.
Plain Python."""

from __future__ import annotations

import math
from typing import Any

from components.lib.card_blocks import Bar, Block, Facts, Heading, Items, Section, Table, Text, code, muted, strong
from components.lib.card_render import NOT_RECORDED
from components.lib.card_values import DASH, as_dict, as_list, first_given, metric_name, num, or_missing, plain, signed

# The metrics shown first, per task, and which way is better.
HEADLINE = {
    "classification": ("accuracy", "macro_f1", "macro_precision", "macro_recall", "macro_roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}  # as components/evaluate/decision.DIRECTIONS
SLICE_METRICS = {"classification": ("accuracy", "macro_f1"), "regression": ("rmse", "mae")}


def evaluation_of(info: dict) -> dict | None:
    """info["evaluation"], or for records made before it the metrics, decision and production version of info."""
    if isinstance(info.get("evaluation"), dict):
        return info["evaluation"]
    if not isinstance(info.get("metrics"), dict):
        return None
    metrics, version = info["metrics"], info.get("production_version")
    evaluation = {"task": info.get("task"), "classes": metrics.get("classes"), "candidate": metrics,
                  "decision": info.get("decision"), "production_version": version}
    # Without a production version it was judged as a first model; with one, production's metrics were not kept.
    return evaluation | ({"production": None} if version is None else {})


def _headline(task: str, metrics: dict) -> list[str]:
    names = [n for n in HEADLINE.get(task, ()) if n in metrics]
    return names or [n for n, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                     and n != "count"]


def _confusion(matrix: Any, classes: list) -> tuple[Block, ...]:
    rows = [r for r in as_list(matrix) if isinstance(r, list)]
    if not rows:
        return (Text(muted(f"Confusion matrix: {NOT_RECORDED}.")),)
    names = [plain(c) for c in classes] if len(classes) == len(rows) else [str(i) for i in range(len(rows))]
    cells = tuple((strong(names[i]), *(strong(num(v)) if i == j else num(v) for j, v in enumerate(row)),
                   num(sum(v for v in row if isinstance(v, (int, float)))))
                  for i, row in enumerate(rows))
    return (Text("Rows are the true class, columns the predicted class; the diagonal is right."),
            Table(("true \\ predicted", *names, "total"), cells, "l" + "r" * (len(names) + 1), "confusion"))


def _per_class(per_class: Any) -> tuple[Block, ...]:
    per_class = as_dict(per_class)
    if not per_class:
        return (Text(muted(f"Per-class metrics: {NOT_RECORDED}.")),)
    rows = tuple((code(plain(name)), *(num(as_dict(m).get(k)) for k in ("precision", "recall", "f1", "roc_auc",
                                                                       "support")))
                 for name, m in per_class.items())
    return (Table(("class", "precision", "recall", "F1", "ROC AUC", "support"), rows, "lrrrrr", "per-class"),)


def _slice_key(row: dict) -> tuple:
    """Overall first, then by column, values numerically where they are numbers, "(missing)" last."""
    value = plain(row.get("value"))
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    numeric = (0, number, "") if math.isfinite(number) else (1, 0.0, value)
    return (row.get("column") != "(overall)", plain(row.get("column")), value == "(missing)", *numeric)


def _slices(task: str, slices: Any) -> tuple[Block, ...]:
    if slices is None:
        return (Text(muted(f"Metrics per slice: {NOT_RECORDED}.")),)
    rows = [r for r in as_list(slices) if isinstance(r, dict)]
    if not rows:
        return (Text("No slices were measured."),)
    names = [n for n in SLICE_METRICS.get(task, ()) if any(n in r for r in rows)] or sorted(
        {k for r in rows for k in r} - {"column", "value", "rows"})
    cells = tuple((plain(r.get("column")), plain(r.get("value")), num(r.get("rows")),
                   *(num(r.get(n)) for n in names)) for r in sorted(rows, key=_slice_key))
    blocks: list[Block] = [Table(("column", "value", "rows", *(metric_name(n) for n in names)), cells,
                                 "llr" + "r" * len(names), "slices")]
    if any(r.get(n) is None for r in rows for n in names):
        blocks.append(Text(muted(f"{DASH} marks a slice with too few rows to measure.")))
    return tuple(blocks)


def _comparison(task: str, evaluation: dict) -> tuple[Block, ...]:
    candidate, production = as_dict(evaluation.get("candidate")), evaluation.get("production")
    version = evaluation.get("production_version")
    if not isinstance(production, dict):
        if version is None and "production" in evaluation:
            return (Text("No production version to compare with: this version was judged as a first model."),)
        where = f"production v{version}" if version is not None else "production"
        return (Text(muted(f"The metrics of {where} on the same rows: {NOT_RECORDED}.")),)
    where = f"production v{version}" if version is not None else "production"
    names = [n for n in dict.fromkeys([*_headline(task, candidate), *_headline(task, production), "count"])
             if n in candidate or n in production]
    rows = []
    for name in names:
        ours, theirs = candidate.get(name), production.get(name)
        change, verdict = DASH, DASH
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (ours, theirs)):
            change = signed(ours - theirs)
            if name != "count":
                better = ours < theirs if name in LOWER_IS_BETTER else ours > theirs
                verdict = "same" if ours == theirs else ("better" if better else "worse")
        rows.append((metric_name(name), num(ours), num(theirs), change, verdict))
    return (Text(f"The candidate and {where} on the same evaluation rows."),
            Table(("metric", "this version", where, "change", "candidate is"), tuple(rows), "lrrrl", "comparison"))


def _decision(evaluation: dict) -> tuple[Block, ...]:
    decision = evaluation.get("decision")
    if not isinstance(decision, dict):
        return (Text(muted(f"The decision: {NOT_RECORDED}.")),)
    approved = decision.get("approved")
    verdict = muted(NOT_RECORDED) if approved is None else strong("approved" if approved else "rejected")
    baseline = decision.get("baseline_version")
    blocks: list[Block] = [Facts((
        ("Decision", verdict), ("Reason", or_missing(decision.get("reason"))),
        ("Judged against", f"production v{baseline}" if baseline is not None else "no production version"),
    ))]
    checks = [c for c in as_list(decision.get("checks")) if isinstance(c, dict)]
    if checks:
        blocks.append(Table(("check", "value", "limit", "result"),
                            tuple((code(plain(c.get("name", "?"))), num(c.get("value")), num(c.get("limit")),
                                   strong("passed") if c.get("passed") else strong("failed")) for c in checks),
                            "lrrl", "checks"))
    else:
        blocks.append(Text("No checks were made."))
    return tuple(blocks)


def evaluation_section(info: dict, spec: dict) -> Section:
    evaluation = evaluation_of(info)
    if evaluation is None:
        return Section("evaluation", "Evaluation", (Text(muted(f"The evaluation: {NOT_RECORDED}.")),))
    task = plain(first_given(evaluation.get("task"), spec.get("task"), info.get("task"), ""))
    candidate = as_dict(evaluation.get("candidate"))
    classes = as_list(evaluation.get("classes")) or as_list(candidate.get("classes")) or as_list(spec.get("classes"))
    names = _headline(task, candidate)
    blocks: list[Block] = [Heading("Headline metrics")]
    if names:
        count = candidate.get("count")
        rows_text = f" on {num(count)} evaluation rows" if count is not None else ""
        blocks += [Text(f"Measured{rows_text}." if rows_text else "Measured on the evaluation rows."),
                   Table(("metric", "value"), tuple((metric_name(n), num(candidate.get(n))) for n in names), "lr",
                         "headline")]
    else:
        blocks.append(Text(muted(f"Metrics: {NOT_RECORDED}.")))
    if task == "classification":
        blocks += [Heading("Confusion matrix"), *_confusion(candidate.get("confusion_matrix"), classes),
                   Heading("Per class"), *_per_class(candidate.get("per_class"))]
    blocks += [Heading("Metrics per slice"), *_slices(task, evaluation.get("slices")),
               Heading("Compared with production"), *_comparison(task, evaluation),
               Heading("Decision"), *_decision(evaluation)]
    notes = [plain(n) for n in [*as_list(evaluation.get("notes")), *as_list(candidate.get("notes"))]]
    if notes:
        blocks += [Heading("Notes"), Items(tuple(notes))]
    return Section("evaluation", "Evaluation", tuple(blocks))


def explanations_section(info: dict) -> Section:
    evaluation = as_dict(info.get("evaluation"))
    if "feature_importance" not in evaluation:
        return Section("explanations", "Explanations",
                       (Text(muted(f"Global feature importance: {NOT_RECORDED}.")),))
    importance = evaluation["feature_importance"]
    if not isinstance(importance, dict):
        return Section("explanations", "Explanations",
                       (Text("Global feature importance was not computed for this version."),))
    values = {k: v for k, v in as_dict(importance.get("features")).items()
              if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    facts = Facts((("Method", or_missing(importance.get("method"))), ("Target", or_missing(importance.get("target"))),
                   ("Steps", or_missing(importance.get("steps"))),
                   ("Rows", muted(NOT_RECORDED) if importance.get("rows") is None else num(importance["rows"]))))
    if not values:
        return Section("explanations", "Explanations", (facts, Text(muted(f"Feature values: {NOT_RECORDED}."))))
    top = max(abs(v) for v in values.values()) or 1.0
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    rows = tuple((code(plain(name)), num(value), Bar(abs(value) / top, value < 0)) for name, value in ordered)
    blocks: list[Block] = [Text("How much each feature matters to the model over the evaluation data, by the method "
                                "below; the longest bar is the feature the model leans on most."),
                           facts, Table(("feature", "importance", ""), rows, "lrl", "importance")]
    if any(v < 0 for v in values.values()):
        blocks.append(Text(muted("A bar for a negative value is orange (░ in the Markdown card).")))
    return Section("explanations", "Explanations", tuple(blocks))
