"""A model card per registered version: what the model is, its data, evaluation, explanations, environment,
intended use and lifecycle, as one self-contained HTML page and its Markdown twin.

The card is built once as plain blocks (`card_blocks`: facts, tables, bars, text) and rendered twice
(`card_render`), so both hold the same content. Every value comes from user data (a column may be named
`<b>x&y</b>`) and is escaped on the way out. The HTML has inline CSS only: no scripts, fonts, images or links
outside the page, so it opens offline and prints. Nothing in it depends on when it was rendered, and the
lifecycle is the last section, its events oldest first: appending events only appends rows, the earlier content
stays byte for byte the same.

Plain Python: the serving environment reads the registry too, without kfp or TensorFlow.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, Callable, Sequence

from components.lib.card_blocks import (
    Bar,
    Block,
    Card,
    Cell,
    Facts,
    Heading,
    Items,
    Section,
    Table,
    Text,
    code,
    muted,
    strong,
)
from components.lib.card_render import NOT_RECORDED, to_html, to_markdown

if TYPE_CHECKING:  # pragma: no cover - typing only
    from components.lib.registry_audit import Event

DASH = "—"
MONITORED = "monitored"  # registry_audit.MONITORED: one monitoring window of the served version
RETRAIN = "retrain"
# The metrics shown first, per task, with their names for people and which way is better.
HEADLINE = {
    "classification": ("accuracy", "macro_f1", "macro_precision", "macro_recall", "macro_roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro F1", "macro_precision": "macro precision",
                "macro_recall": "macro recall", "macro_roc_auc": "macro ROC AUC", "log_loss": "log loss",
                "rmse": "RMSE", "mae": "MAE", "r2": "R²", "count": "rows"}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}  # as components/evaluate/decision.DIRECTIONS
SLICE_METRICS = {"classification": ("accuracy", "macro_f1"), "regression": ("rmse", "mae")}
MAX_VOCABULARY = 12  # vocabulary values a features table shows per feature


# --- values as text --------------------------------------------------------------------------------------


def _num(value: Any) -> str:
    """A value for a table: ints with thousands separators, floats to 4 significant digits, None as a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return DASH
        if abs(value) >= 1e4:
            return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
        return f"{value:.4g}"
    return _text(value)


def _text(value: Any) -> str:
    """Any JSON value as one line of text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _percent(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else DASH


def _signed(value: float) -> str:
    return "0" if value == 0 else f"{value:+.4g}"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _or_missing(value: Any, cell: Callable[[str], Cell] = str) -> Cell:
    """`value` as a cell of type `cell`, or "not recorded" when it is None or ""."""
    return muted(NOT_RECORDED) if value is None or value == "" else cell(_text(value))


def _metric_name(name: str) -> str:
    return METRIC_NAMES.get(name, name.replace("_", " "))


def _first(*values: Any) -> Any:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)


# --- sections ---------------------------------------------------------------------------------------------


def _evaluation(info: dict) -> dict | None:
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


def _trigger(info: dict) -> Cell:
    if "trigger" not in info:
        return muted(NOT_RECORDED)
    trigger = info["trigger"]
    if not isinstance(trigger, dict):
        return "a training run (not a monitoring-triggered retraining)"
    reason = _text(trigger.get("reason") or "no reason recorded")
    if trigger.get("monitoring_run"):
        window = (f" (window {_text(trigger['window'])} of v{_text(trigger.get('monitored_version'))})"
                  if trigger.get("window") else "")
        return f"retraining triggered by monitoring run {_text(trigger['monitoring_run'])}{window}: {reason}"
    return f"a run triggered by: {reason}"


def _feature_range(feature: dict) -> str:
    vocabulary = _list(feature.get("vocabulary"))
    if feature.get("kind") == "categorical" or vocabulary:
        if not vocabulary:
            return "no vocabulary"
        shown = ", ".join(_text(v) for v in vocabulary[:MAX_VOCABULARY])
        more = len(vocabulary) - MAX_VOCABULARY
        return f"{shown} … (+{more:,} more)" if more > 0 else shown
    low, high = feature.get("min"), feature.get("max")
    return DASH if low is None and high is None else f"{_num(low)} to {_num(high)}"


def _features(spec: dict) -> tuple[Block, ...]:
    features = [f if isinstance(f, dict) else {"name": f} for f in _list(spec.get("features"))]
    if not features:
        return (Text(muted(f"Features: {NOT_RECORDED}")),)
    rows = tuple((code(_text(f.get("name", "?"))), _text(f.get("kind", DASH)), _text(f.get("dtype", DASH)),
                  _feature_range(f), _num(f.get("mean")), _percent(f.get("missing_fraction")))
                 for f in features)
    return (Table(("feature", "kind", "type", "range or vocabulary", "mean", "missing"), rows, "llllrr",
                  "features"),)


def _model_section(record: dict, spec: dict, metadata: dict) -> Section:
    info = _dict(record.get("info"))
    task = _first(spec.get("task"), info.get("task"), metadata.get("task"))
    classes = _list(spec.get("classes")) or _list(_dict(_evaluation(info)).get("classes"))
    files = _list(record.get("files"))
    size = sum(f.get("bytes", 0) for f in files if isinstance(f, dict))
    facts: list[tuple[str, Cell | tuple[Cell, ...]]] = [
        ("Model", code(_text(record.get("model", "?")))),
        ("Version", _num(record.get("version"))),
        ("Registered", _or_missing(record.get("time"))),
        ("Training run", _or_missing(record.get("run"), code)),
        ("Made by", _trigger(info)),
        ("Task", _or_missing(task)),
        ("Label", _or_missing(_first(spec.get("label"), metadata.get("label")), code)),
    ]
    if task == "classification" or classes:
        facts.append(("Classes", ", ".join(_text(c) for c in classes) if classes else muted(NOT_RECORDED)))
    if spec.get("label_mean") is not None:
        facts.append(("Label scale", f"mean {_num(spec.get('label_mean'))}, std {_num(spec.get('label_std'))}"))
    facts.append(("Bundle", f"{len(files):,} files, {size:,} bytes" if files else muted(NOT_RECORDED)))
    blocks: list[Block] = [Facts(tuple(facts)), Heading("Features"), *_features(spec)]
    columns = [c for c in _list(metadata.get("columns")) if isinstance(c, dict)]
    if columns:
        blocks += [Heading("Columns of the training data"),
                   Table(("column", "became", "detail"),
                         tuple((code(_text(c.get("column", "?"))), _text(c.get("became", DASH)),
                                _text(c.get("detail", ""))) for c in columns), name="columns")]
    blocks.append(Heading("Training"))
    parameters = _dict(metadata.get("parameters"))
    categorical = _list(metadata.get("categorical_features"))
    blocks.append(Facts((
        ("Best epoch", _or_missing(metadata.get("best_epoch"))),
        ("Epochs run", _or_missing(metadata.get("epochs_run"))),
        ("Training rows", _or_missing(None if metadata.get("train_rows") is None else _num(metadata["train_rows"]))),
        ("Integer-coded categories", ", ".join(_text(c) for c in categorical) if categorical else "none"),
    )))
    if parameters:
        blocks.append(Table(("parameter", "value"), tuple((code(_text(k)), _num(v)) for k, v in parameters.items()),
                            "lr", "parameters"))
    else:
        blocks.append(Text(muted(f"Training parameters: {NOT_RECORDED}")))
    trained = _dict(metadata.get("metrics"))
    if trained:
        blocks.append(Table(("training metric (best epoch)", "value"),
                            tuple((_text(k), _num(v)) for k, v in trained.items()), "lr", "training-metrics"))
    return Section("model", "The model", tuple(blocks))


def _anomaly_rows(validation: dict) -> list[dict] | None:
    """The anomalies of a validation decision: a list under "anomalies", or under "anomaly_rows" beside a count."""
    for key in ("anomalies", "anomaly_rows"):
        if isinstance(validation.get(key), list):
            return [a for a in validation[key] if isinstance(a, dict)]
    return None


def _data_section(info: dict, metadata: dict) -> Section:
    data = info.get("data") if isinstance(info.get("data"), dict) else {}
    sources = _list(_first(data.get("source_uris"), metadata.get("source_uris")))
    data_hash = _first(data.get("data_hash"), info.get("data_hash"), metadata.get("data_hash"))
    train_rows = _first(data.get("train_rows"), metadata.get("train_rows"))
    eval_rows = data.get("eval_rows")
    blocks: list[Block] = [Facts((
        ("Source URIs", tuple(code(_text(s)) for s in sources) if sources else muted(NOT_RECORDED)),
        ("Content hash", _or_missing(data_hash, code)),
        ("Training rows", muted(NOT_RECORDED) if train_rows is None else _num(train_rows)),
        ("Evaluation rows", muted(NOT_RECORDED) if eval_rows is None else _num(eval_rows)),
    )), Heading("Data validation")]
    validation = data.get("validation")
    if not isinstance(validation, dict):
        blocks.append(Text(muted(f"The data validation decision: {NOT_RECORDED}.")))
        return Section("data", "Data", tuple(blocks))
    ok = validation.get("data_ok")
    verdict = muted(NOT_RECORDED) if ok is None else strong("data OK" if ok else "data not OK")
    blocks.append(Facts((("Decision", verdict), ("Reason", _or_missing(validation.get("reason"))))))
    anomalies = _anomaly_rows(validation)
    if anomalies is None:
        blocks.append(Text(muted(f"Anomalies: {NOT_RECORDED}.")))
    elif not anomalies:
        blocks.append(Text("No anomalies were found."))
    else:
        blocks.append(Table(("split", "feature", "anomaly", "description", "severity"),
                            tuple((_text(a.get("split", DASH)), code(_text(a.get("feature", DASH))),
                                   _text(a.get("short", DASH)), _text(a.get("description", "")),
                                   _text(a.get("severity", DASH))) for a in anomalies), name="anomalies"))
    return Section("data", "Data", tuple(blocks))


def _headline(task: str, metrics: dict) -> list[str]:
    names = [n for n in HEADLINE.get(task, ()) if n in metrics]
    return names or [n for n, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                     and n != "count"]


def _confusion(matrix: Any, classes: list) -> tuple[Block, ...]:
    rows = [r for r in _list(matrix) if isinstance(r, list)]
    if not rows:
        return (Text(muted(f"Confusion matrix: {NOT_RECORDED}.")),)
    names = [_text(c) for c in classes] if len(classes) == len(rows) else [str(i) for i in range(len(rows))]
    cells = tuple((strong(names[i]), *(strong(_num(v)) if i == j else _num(v) for j, v in enumerate(row)),
                   _num(sum(v for v in row if isinstance(v, (int, float)))))
                  for i, row in enumerate(rows))
    return (Text("Rows are the true class, columns the predicted class; the diagonal is right."),
            Table(("true \\ predicted", *names, "total"), cells, "l" + "r" * (len(names) + 1), "confusion"))


def _per_class(per_class: Any) -> tuple[Block, ...]:
    per_class = _dict(per_class)
    if not per_class:
        return (Text(muted(f"Per-class metrics: {NOT_RECORDED}.")),)
    rows = tuple((code(_text(name)), *(_num(_dict(m).get(k)) for k in ("precision", "recall", "f1", "roc_auc",
                                                                       "support")))
                 for name, m in per_class.items())
    return (Table(("class", "precision", "recall", "F1", "ROC AUC", "support"), rows, "lrrrrr", "per-class"),)


def _slice_key(row: dict) -> tuple:
    """Overall first, then by column, values numerically where they are numbers, "(missing)" last."""
    value = _text(row.get("value"))
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    numeric = (0, number, "") if math.isfinite(number) else (1, 0.0, value)
    return (row.get("column") != "(overall)", _text(row.get("column")), value == "(missing)", *numeric)


def _slices(task: str, slices: Any) -> tuple[Block, ...]:
    if slices is None:
        return (Text(muted(f"Metrics per slice: {NOT_RECORDED}.")),)
    rows = [r for r in _list(slices) if isinstance(r, dict)]
    if not rows:
        return (Text("No slices were measured."),)
    names = [n for n in SLICE_METRICS.get(task, ()) if any(n in r for r in rows)] or sorted(
        {k for r in rows for k in r} - {"column", "value", "rows"})
    cells = tuple((_text(r.get("column")), _text(r.get("value")), _num(r.get("rows")),
                   *(_num(r.get(n)) for n in names)) for r in sorted(rows, key=_slice_key))
    blocks: list[Block] = [Table(("column", "value", "rows", *(_metric_name(n) for n in names)), cells,
                                 "llr" + "r" * len(names), "slices")]
    if any(r.get(n) is None for r in rows for n in names):
        blocks.append(Text(muted(f"{DASH} marks a slice with too few rows to measure.")))
    return tuple(blocks)


def _comparison(task: str, evaluation: dict) -> tuple[Block, ...]:
    candidate, production = _dict(evaluation.get("candidate")), evaluation.get("production")
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
            change = _signed(ours - theirs)
            if name != "count":
                better = ours < theirs if name in LOWER_IS_BETTER else ours > theirs
                verdict = "same" if ours == theirs else ("better" if better else "worse")
        rows.append((_metric_name(name), _num(ours), _num(theirs), change, verdict))
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
        ("Decision", verdict), ("Reason", _or_missing(decision.get("reason"))),
        ("Judged against", f"production v{baseline}" if baseline is not None else "no production version"),
    ))]
    checks = [c for c in _list(decision.get("checks")) if isinstance(c, dict)]
    if checks:
        blocks.append(Table(("check", "value", "limit", "result"),
                            tuple((code(_text(c.get("name", "?"))), _num(c.get("value")), _num(c.get("limit")),
                                   strong("passed") if c.get("passed") else strong("failed")) for c in checks),
                            "lrrl", "checks"))
    else:
        blocks.append(Text("No checks were made."))
    return tuple(blocks)


def _evaluation_section(info: dict, spec: dict) -> Section:
    evaluation = _evaluation(info)
    if evaluation is None:
        return Section("evaluation", "Evaluation", (Text(muted(f"The evaluation: {NOT_RECORDED}.")),))
    task = _text(_first(evaluation.get("task"), spec.get("task"), info.get("task"), ""))
    candidate = _dict(evaluation.get("candidate"))
    classes = _list(evaluation.get("classes")) or _list(candidate.get("classes")) or _list(spec.get("classes"))
    names = _headline(task, candidate)
    blocks: list[Block] = [Heading("Headline metrics")]
    if names:
        count = candidate.get("count")
        rows_text = f" on {_num(count)} evaluation rows" if count is not None else ""
        blocks += [Text(f"Measured{rows_text}." if rows_text else "Measured on the evaluation rows."),
                   Table(("metric", "value"), tuple((_metric_name(n), _num(candidate.get(n))) for n in names), "lr",
                         "headline")]
    else:
        blocks.append(Text(muted(f"Metrics: {NOT_RECORDED}.")))
    if task == "classification":
        blocks += [Heading("Confusion matrix"), *_confusion(candidate.get("confusion_matrix"), classes),
                   Heading("Per class"), *_per_class(candidate.get("per_class"))]
    blocks += [Heading("Metrics per slice"), *_slices(task, evaluation.get("slices")),
               Heading("Compared with production"), *_comparison(task, evaluation),
               Heading("Decision"), *_decision(evaluation)]
    notes = [_text(n) for n in [*_list(evaluation.get("notes")), *_list(candidate.get("notes"))]]
    if notes:
        blocks += [Heading("Notes"), Items(tuple(notes))]
    return Section("evaluation", "Evaluation", tuple(blocks))


def _explanations_section(info: dict) -> Section:
    evaluation = _dict(info.get("evaluation"))
    if "feature_importance" not in evaluation:
        return Section("explanations", "Explanations",
                       (Text(muted(f"Global feature importance: {NOT_RECORDED}.")),))
    importance = evaluation["feature_importance"]
    if not isinstance(importance, dict):
        return Section("explanations", "Explanations",
                       (Text("Global feature importance was not computed for this version."),))
    values = {k: v for k, v in _dict(importance.get("features")).items()
              if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    facts = Facts((("Method", _or_missing(importance.get("method"))), ("Target", _or_missing(importance.get("target"))),
                   ("Steps", _or_missing(importance.get("steps"))),
                   ("Rows", muted(NOT_RECORDED) if importance.get("rows") is None else _num(importance["rows"]))))
    if not values:
        return Section("explanations", "Explanations", (facts, Text(muted(f"Feature values: {NOT_RECORDED}."))))
    top = max(abs(v) for v in values.values()) or 1.0
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    rows = tuple((code(_text(name)), _num(value), Bar(abs(value) / top, value < 0)) for name, value in ordered)
    blocks: list[Block] = [Text("How much each feature matters to the model over the evaluation data, by the method "
                                "below; the longest bar is the feature the model leans on most."),
                           facts, Table(("feature", "importance", ""), rows, "lrl", "importance")]
    if any(v < 0 for v in values.values()):
        blocks.append(Text(muted("A bar for a negative value is orange (░ in the Markdown card).")))
    return Section("explanations", "Explanations", tuple(blocks))


def _environment_section(info: dict, metadata: dict) -> Section:
    environment = info.get("environment")
    env = environment if isinstance(environment, dict) else {}
    blocks: list[Block] = [Facts((
        ("Code version", _or_missing(_first(env.get("code_version"), info.get("code_version"),
                                            metadata.get("code_version")), code)),
        ("Environment hash", _or_missing(_first(env.get("environment_hash"), metadata.get("environment_hash")),
                                         code)),
    )), Heading("Lock files")]
    locks = _dict(env.get("lock_hashes"))
    blocks.append(Table(("lock file", "hash"), tuple((code(_text(k)), code(_text(v))) for k, v in locks.items()),
                        name="locks") if locks else Text(muted(f"Lock hashes: {NOT_RECORDED}.")))
    blocks.append(Heading("Images"))
    images = _dict(env.get("images"))
    blocks.append(Table(("image", "reference"), tuple((_text(k), code(_text(v))) for k, v in images.items()),
                        name="images") if images else Text(muted(f"Images: {NOT_RECORDED}.")))
    return Section("environment", "Environment", tuple(blocks))


def _intended_use_section(info: dict) -> Section:
    if "intended_use" not in info or info["intended_use"] is None:
        blocks: tuple[Block, ...] = (Text(muted(f"Intended use and limitations: {NOT_RECORDED}.")),)
    elif not _text(info["intended_use"]).strip():
        blocks = (Text(muted("None was given: whoever trained this version said nothing about its intended use "
                             "or its limitations.")),)
    else:
        paragraphs = re.split(r"\n\s*\n", _text(info["intended_use"]).strip())
        blocks = tuple(Text(p.strip()) for p in paragraphs)
    return Section("intended-use", "Intended use and limitations", blocks)


def _details(event: Any) -> str:
    """An event's details as `key: value` text, less what other columns show: "by", a value equal to the run,
    a monitoring window (the windows table has it)."""
    shown = {"by", "window"} if event.event == MONITORED else {"by"}
    details = {k: v for k, v in _dict(event.details).items() if k not in shown and v != event.run}
    return "; ".join(f"{k}: {_text(v)}" for k, v in details.items()) or DASH


def _lifecycle_section(events: Sequence[Event]) -> Section:
    if not events:
        return Section("lifecycle", "Lifecycle so far", (Text("No events are recorded yet."),))
    rows = tuple((code(_text(e.time)), strong(_text(e.event)), code(_text(e.run)) if e.run else DASH,
                  _text(e.reason) or DASH, _text(_dict(e.details).get("by") or DASH), _details(e))
                 for e in events)
    blocks: list[Block] = [Text("Every event of this version's audit log, oldest first."),
                           Table(("time", "event", "run", "reason", "who", "details"), rows, name="events")]
    windows = [e for e in events if e.event == MONITORED]
    blocks.append(Heading("Monitoring windows"))
    if windows:
        blocks.append(Table(("time", "window", "rows", "decision", "monitoring run"),
                            tuple(_window(e) for e in windows), "llrll", "windows"))
    else:
        blocks.append(Text("This version has not been monitored yet."))
    return Section("lifecycle", "Lifecycle so far", tuple(blocks))


def _window(event: Any) -> tuple[Cell, ...]:
    details = _dict(event.details)
    decision = _text(details.get("decision") or DASH)
    return (code(_text(event.time)), _text(details.get("window") or DASH), _num(details.get("rows")),
            strong(decision) if decision == RETRAIN else decision, code(_text(details.get("monitoring_run") or DASH)))


def card_sections(record: dict, spec: dict, metadata: dict, events: Sequence[Event]) -> list[Section]:
    """The card's sections in order; the lifecycle, the only part that grows, last."""
    info = _dict(record.get("info"))
    spec, metadata = _dict(spec), _dict(metadata)
    return [_model_section(record, spec, metadata), _data_section(info, metadata), _evaluation_section(info, spec),
            _explanations_section(info), _environment_section(info, metadata), _intended_use_section(info),
            _lifecycle_section(list(events))]


def render_card(record: dict, spec: dict, metadata: dict, events: Sequence[Event]) -> Card:
    """The model card of one registered version: its registration record (with info), feature_spec.json and
    metadata.json as dicts, and its audit events oldest first."""
    sections = card_sections(record, spec, metadata, events)
    title = f"Model card: {_text(record.get('model', '?'))} v{_text(record.get('version', '?'))}"
    subtitle, verdict = _summary(record, spec)
    return Card(markdown=to_markdown(title, subtitle, verdict, sections),
                html=to_html(title, subtitle, verdict, sections))


def _summary(record: dict, spec: dict) -> tuple[str, bool | None]:
    """The line under the title, and whether the version was approved (None: not recorded)."""
    info = _dict(record.get("info"))
    task = _text(_first(spec.get("task"), info.get("task"), "model"))
    label = spec.get("label")
    features = len(_list(spec.get("features")))
    what = f"A {task} model of {_text(label)}" if label else f"A {task} model"
    if features:
        what += f" from {features} feature{'s' if features != 1 else ''}"
    when = f", registered {_text(record['time'])}" if record.get("time") else ""
    decision = _dict(_dict(_evaluation(info)).get("decision"))
    approved = decision.get("approved")
    return what + when + ".", None if approved is None else bool(approved)
