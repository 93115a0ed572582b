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

import re
from typing import Any, Sequence

from components.lib.card_blocks import (
    Block,
    Card,
    Cell,
    Facts,
    Heading,
    Section,
    Table,
    Text,
    code,
    muted,
    strong,
)
from components.lib.card_evaluation import evaluation_of, evaluation_section, explanations_section
from components.lib.card_render import NOT_RECORDED, to_html, to_markdown
from components.lib.card_values import DASH, as_dict, as_list, first_given, num, or_missing, percent, plain
from components.lib.registry_audit import MONITORED, Event

RETRAIN = "retrain"  # monitor's decision that asks for training (components/monitor/executor.RETRAIN)
MAX_VOCABULARY = 12  # vocabulary values a features table shows per feature


# --- sections ---------------------------------------------------------------------------------------------


def _trigger(info: dict) -> Cell:
    if "trigger" not in info:
        return muted(NOT_RECORDED)
    trigger = info["trigger"]
    if not isinstance(trigger, dict):
        return "a training run (not a monitoring-triggered retraining)"
    reason = plain(trigger.get("reason") or "no reason recorded")
    if trigger.get("monitoring_run"):
        window = (f" (window {plain(trigger['window'])} of v{plain(trigger.get('monitored_version'))})"
                  if trigger.get("window") else "")
        return f"retraining triggered by monitoring run {plain(trigger['monitoring_run'])}{window}: {reason}"
    return f"a run triggered by: {reason}"


def _feature_range(feature: dict) -> str:
    vocabulary = as_list(feature.get("vocabulary"))
    if feature.get("kind") == "categorical" or vocabulary:
        if not vocabulary:
            return "no vocabulary"
        shown = ", ".join(plain(v) for v in vocabulary[:MAX_VOCABULARY])
        more = len(vocabulary) - MAX_VOCABULARY
        return f"{shown} … (+{more:,} more)" if more > 0 else shown
    low, high = feature.get("min"), feature.get("max")
    return DASH if low is None and high is None else f"{num(low)} to {num(high)}"


def _features(spec: dict) -> tuple[Block, ...]:
    features = [f if isinstance(f, dict) else {"name": f} for f in as_list(spec.get("features"))]
    if not features:
        return (Text(muted(f"Features: {NOT_RECORDED}")),)
    rows = tuple((code(plain(f.get("name", "?"))), plain(f.get("kind", DASH)), plain(f.get("dtype", DASH)),
                  _feature_range(f), num(f.get("mean")), percent(f.get("missing_fraction")))
                 for f in features)
    return (Table(("feature", "kind", "type", "range or vocabulary", "mean", "missing"), rows, "llllrr",
                  "features"),)


def _model_section(record: dict, spec: dict, metadata: dict) -> Section:
    info = as_dict(record.get("info"))
    task = first_given(spec.get("task"), info.get("task"), metadata.get("task"))
    classes = as_list(spec.get("classes")) or as_list(as_dict(evaluation_of(info)).get("classes"))
    files = as_list(record.get("files"))
    size = sum(f.get("bytes", 0) for f in files if isinstance(f, dict))
    facts: list[tuple[str, Cell | tuple[Cell, ...]]] = [
        ("Model", code(plain(record.get("model", "?")))),
        ("Version", num(record.get("version"))),
        ("Registered", or_missing(record.get("time"))),
        ("Training run", or_missing(record.get("run"), code)),
        ("Made by", _trigger(info)),
        ("Task", or_missing(task)),
        ("Label", or_missing(first_given(spec.get("label"), metadata.get("label")), code)),
    ]
    if task == "classification" or classes:
        facts.append(("Classes", ", ".join(plain(c) for c in classes) if classes else muted(NOT_RECORDED)))
    if spec.get("label_mean") is not None:
        facts.append(("Label scale", f"mean {num(spec.get('label_mean'))}, std {num(spec.get('label_std'))}"))
    facts.append(("Bundle", f"{len(files):,} files, {size:,} bytes" if files else muted(NOT_RECORDED)))
    blocks: list[Block] = [Facts(tuple(facts)), Heading("Features"), *_features(spec)]
    columns = [c for c in as_list(metadata.get("columns")) if isinstance(c, dict)]
    if columns:
        blocks += [Heading("Columns of the training data"),
                   Table(("column", "became", "detail"),
                         tuple((code(plain(c.get("column", "?"))), plain(c.get("became", DASH)),
                                plain(c.get("detail", ""))) for c in columns), name="columns")]
    blocks.append(Heading("Training"))
    parameters = as_dict(metadata.get("parameters"))
    categorical = as_list(metadata.get("categorical_features"))
    blocks.append(Facts((
        ("Best epoch", or_missing(metadata.get("best_epoch"))),
        ("Epochs run", or_missing(metadata.get("epochs_run"))),
        ("Training rows", or_missing(None if metadata.get("train_rows") is None else num(metadata["train_rows"]))),
        ("Integer-coded categories", ", ".join(plain(c) for c in categorical) if categorical else "none"),
    )))
    if parameters:
        blocks.append(Table(("parameter", "value"), tuple((code(plain(k)), num(v)) for k, v in parameters.items()),
                            "lr", "parameters"))
    else:
        blocks.append(Text(muted(f"Training parameters: {NOT_RECORDED}")))
    trained = as_dict(metadata.get("metrics"))
    if trained:
        blocks.append(Table(("training metric (best epoch)", "value"),
                            tuple((plain(k), num(v)) for k, v in trained.items()), "lr", "training-metrics"))
    return Section("model", "The model", tuple(blocks))


def _anomaly_rows(validation: dict) -> list[dict] | None:
    """The anomalies of a validation decision: a list under "anomalies", or under "anomaly_rows" beside a count."""
    for key in ("anomalies", "anomaly_rows"):
        if isinstance(validation.get(key), list):
            return [a for a in validation[key] if isinstance(a, dict)]
    return None


def _data_section(info: dict, metadata: dict) -> Section:
    data = info.get("data") if isinstance(info.get("data"), dict) else {}
    sources = as_list(first_given(data.get("source_uris"), metadata.get("source_uris")))
    data_hash = first_given(data.get("data_hash"), info.get("data_hash"), metadata.get("data_hash"))
    train_rows = first_given(data.get("train_rows"), metadata.get("train_rows"))
    eval_rows = data.get("eval_rows")
    blocks: list[Block] = [Facts((
        ("Source URIs", tuple(code(plain(s)) for s in sources) if sources else muted(NOT_RECORDED)),
        ("Content hash", or_missing(data_hash, code)),
        ("Training rows", muted(NOT_RECORDED) if train_rows is None else num(train_rows)),
        ("Evaluation rows", muted(NOT_RECORDED) if eval_rows is None else num(eval_rows)),
    )), Heading("Data validation")]
    validation = data.get("validation")
    if not isinstance(validation, dict):
        blocks.append(Text(muted(f"The data validation decision: {NOT_RECORDED}.")))
        return Section("data", "Data", tuple(blocks))
    ok = validation.get("data_ok")
    verdict = muted(NOT_RECORDED) if ok is None else strong("data OK" if ok else "data not OK")
    blocks.append(Facts((("Decision", verdict), ("Reason", or_missing(validation.get("reason"))))))
    anomalies = _anomaly_rows(validation)
    if anomalies is None:
        blocks.append(Text(muted(f"Anomalies: {NOT_RECORDED}.")))
    elif not anomalies:
        blocks.append(Text("No anomalies were found."))
    else:
        blocks.append(Table(("split", "feature", "anomaly", "description", "severity"),
                            tuple((plain(a.get("split", DASH)), code(plain(a.get("feature", DASH))),
                                   plain(a.get("short", DASH)), plain(a.get("description", "")),
                                   plain(a.get("severity", DASH))) for a in anomalies), name="anomalies"))
    return Section("data", "Data", tuple(blocks))


def _environment_section(info: dict, metadata: dict) -> Section:
    environment = info.get("environment")
    env = environment if isinstance(environment, dict) else {}
    blocks: list[Block] = [Facts((
        ("Code version", or_missing(first_given(env.get("code_version"), info.get("code_version"),
                                            metadata.get("code_version")), code)),
        ("Environment hash", or_missing(first_given(env.get("environment_hash"), metadata.get("environment_hash")),
                                         code)),
    )), Heading("Lock files")]
    locks = as_dict(env.get("lock_hashes"))
    blocks.append(Table(("lock file", "hash"), tuple((code(plain(k)), code(plain(v))) for k, v in locks.items()),
                        name="locks") if locks else Text(muted(f"Lock hashes: {NOT_RECORDED}.")))
    blocks.append(Heading("Images"))
    images = as_dict(env.get("images"))
    blocks.append(Table(("image", "reference"), tuple((plain(k), code(plain(v))) for k, v in images.items()),
                        name="images") if images else Text(muted(f"Images: {NOT_RECORDED}.")))
    return Section("environment", "Environment", tuple(blocks))


def _intended_use_section(info: dict) -> Section:
    if "intended_use" not in info or info["intended_use"] is None:
        blocks: tuple[Block, ...] = (Text(muted(f"Intended use and limitations: {NOT_RECORDED}.")),)
    elif not plain(info["intended_use"]).strip():
        blocks = (Text(muted("None was given: whoever trained this version said nothing about its intended use "
                             "or its limitations.")),)
    else:
        paragraphs = re.split(r"\n\s*\n", plain(info["intended_use"]).strip())
        blocks = tuple(Text(p.strip()) for p in paragraphs)
    return Section("intended-use", "Intended use and limitations", blocks)


def _details(event: Any) -> str:
    """An event's details as `key: value` text, less what other columns show: "by", a value equal to the run,
    a monitoring window (the windows table has it)."""
    shown = {"by", "window"} if event.event == MONITORED else {"by"}
    details = {k: v for k, v in as_dict(event.details).items() if k not in shown and v != event.run}
    return "; ".join(f"{k}: {plain(v)}" for k, v in details.items()) or DASH


def _lifecycle_section(events: Sequence[Event]) -> Section:
    if not events:
        return Section("lifecycle", "Lifecycle so far", (Text("No events are recorded yet."),))
    rows = tuple((code(plain(e.time)), strong(plain(e.event)), code(plain(e.run)) if e.run else DASH,
                  plain(e.reason) or DASH, plain(as_dict(e.details).get("by") or DASH), _details(e))
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
    details = as_dict(event.details)
    decision = plain(details.get("decision") or DASH)
    return (code(plain(event.time)), plain(details.get("window") or DASH), num(details.get("rows")),
            strong(decision) if decision == RETRAIN else decision, code(plain(details.get("monitoring_run") or DASH)))


def card_sections(record: dict, spec: dict, metadata: dict, events: Sequence[Event]) -> list[Section]:
    """The card's sections in order; the lifecycle, the only part that grows, last."""
    info = as_dict(record.get("info"))
    spec, metadata = as_dict(spec), as_dict(metadata)
    return [_model_section(record, spec, metadata), _data_section(info, metadata), evaluation_section(info, spec),
            explanations_section(info), _environment_section(info, metadata), _intended_use_section(info),
            _lifecycle_section(list(events))]


def render_card(record: dict, spec: dict, metadata: dict, events: Sequence[Event]) -> Card:
    """The model card of one registered version: its registration record (with info), feature_spec.json and
    metadata.json as dicts, and its audit events oldest first."""
    sections = card_sections(record, spec, metadata, events)
    title = f"Model card: {plain(record.get('model', '?'))} v{plain(record.get('version', '?'))}"
    subtitle, verdict = _summary(record, spec)
    return Card(markdown=to_markdown(title, subtitle, verdict, sections),
                html=to_html(title, subtitle, verdict, sections))


def _summary(record: dict, spec: dict) -> tuple[str, bool | None]:
    """The line under the title, and whether the version was approved (None: not recorded)."""
    info = as_dict(record.get("info"))
    task = plain(first_given(spec.get("task"), info.get("task"), "model"))
    label = spec.get("label")
    features = len(as_list(spec.get("features")))
    what = f"A {task} model of {plain(label)}" if label else f"A {task} model"
    if features:
        what += f" from {features} feature{'s' if features != 1 else ''}"
    when = f", registered {plain(record['time'])}" if record.get("time") else ""
    decision = as_dict(as_dict(evaluation_of(info)).get("decision"))
    approved = decision.get("approved")
    return what + when + ".", None if approved is None else bool(approved)
