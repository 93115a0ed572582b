"""The model card: its sections for a classifier and a regressor, escaping, "not recorded", the append-only lifecycle,
and write_card on a local registry and on gs:// (the session's gcp-storage-emulator)."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from components.lib import uri as uri_io
from components.lib.bundle import (
    CATEGORICAL,
    CLASSIFICATION,
    FEATURE_SPEC_FILE,
    METADATA_FILE,
    NUMERIC,
    Feature,
    FeatureSpec,
    write_bundle_files,
)
from components.lib.model_card import NOT_RECORDED, Card, render_card
from components.lib.model_card_store import CARDS_DIR, HTML_FILE, MARKDOWN_FILE, card_uris, write_card
from components.lib.registry import Registry
from components.lib.registry_audit import Event
from support.gcs_emulator import local_or_gcs_root

HOSTILE = "<b>x&y</b>"
HOSTILE_HTML = "&lt;b&gt;x&amp;y&lt;/b&gt;"
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


# --- records made by hand, small and realistic ----------------------------------------------------------


def _feature(name: str, kind: str, dtype: str, **stats: object) -> dict:
    return {"name": name, "kind": kind, "dtype": dtype, "min": None, "max": None, "mean": None, "std": None,
            "vocabulary": [], "missing_fraction": 0.0, **stats}


def classification_spec() -> dict:
    """A penguins classifier's feature_spec.json, one column named like markup."""
    return {"label": "species", "task": "classification", "classes": CLASSES, "features": [
        _feature("island", CATEGORICAL, "string", vocabulary=["Biscoe", "Dream", "Torgersen"]),
        _feature("bill_length_mm", NUMERIC, "float", min=33.5, max=59.6, mean=44.26, missing_fraction=0.0071),
        _feature(HOSTILE, NUMERIC, "int", min=2700.0, max=6300.0, mean=4245.6),
    ]}


def classification_metadata() -> dict:
    return {"label": "species", "task": "classification", "best_epoch": 17, "epochs_run": 22, "train_rows": 282,
            "parameters": {"learning_rate": 0.005, "hidden_units": 24, "batch_size": 32},
            "metrics": {"accuracy": 0.9929, "val_accuracy": 0.9839},
            "code_version": "0.1.0+gmeta", "environment_hash": "sha256:meta", "source_uris": ["/data/old.csv"],
            "columns": [{"column": "species", "became": "label", "detail": "classification: 3 classes"},
                        {"column": "rowid", "became": "left out", "detail": "an integer id: all different"}]}


def _class_metrics(accuracy: float, confusion: list[list[int]]) -> dict:
    return {"count": 62, "classes": CLASSES, "accuracy": accuracy, "macro_f1": accuracy - 0.01,
            "macro_precision": accuracy, "macro_recall": accuracy - 0.02, "macro_roc_auc": 0.9975, "log_loss": 0.0831,
            "confusion_matrix": confusion, "roc_curves": None, "notes": [],
            "per_class": {name: {"precision": 0.9412, "recall": 0.9697, "f1": 0.9552, "support": sum(row),
                                 "roc_auc": 0.998} for name, row in zip(CLASSES, confusion)}}


def classification_record() -> dict:
    """Version 3 of penguins, judged against production v2, with every key the lead's register writes."""
    candidate = _class_metrics(0.9516, [[32, 2, 0], [1, 9, 0], [0, 0, 18]])
    production = _class_metrics(0.9032, [[30, 4, 0], [2, 8, 0], [0, 0, 18]])
    evaluation = {
        "task": "classification", "classes": CLASSES, "candidate": candidate, "production": production,
        "production_version": 2, "notes": ["eval rows without a label: 2"],
        "decision": {"approved": True, "baseline_version": 2,
                     "reason": "approved: accuracy 0.9516 >= floor 0.9; accuracy 0.9516 >= production v2 (0.9032)",
                     "checks": [{"name": "min_accuracy", "value": 0.9516, "limit": 0.9, "passed": True},
                                {"name": "accuracy_vs_production", "value": 0.9516, "limit": 0.8932,
                                 "passed": True}]},
        "slices": [{"column": "(overall)", "value": "(all)", "rows": 62, "accuracy": 0.9516, "macro_f1": 0.9416},
                   {"column": "island", "value": "Dream", "rows": 27, "accuracy": 0.8889, "macro_f1": 0.8765},
                   {"column": "island", "value": "Biscoe", "rows": 25, "accuracy": 1.0, "macro_f1": 1.0},
                   {"column": HOSTILE, "value": "7", "rows": 1, "accuracy": None, "macro_f1": None}],
        "feature_importance": {"method": "mean absolute integrated-gradients attribution", "steps": 64, "rows": 62,
                               "target": "probability of the predicted class",
                               "features": {"island": 0.0712, "bill_length_mm": 0.3125, HOSTILE: 0.1562}},
    }
    info = {
        "metrics": candidate, "decision": evaluation["decision"], "production_version": 2, "task": "classification",
        "data_hash": "sha256:cdf42f84", "code_version": "0.1.0+g46bac5e2732e",
        "data": {"source_uris": ["gs://penguins-raw/2026-12/penguins.csv"], "data_hash": "sha256:cdf42f84",
                 "train_rows": 282, "eval_rows": 62,
                 "validation": {"data_ok": True, "reason": "1 anomaly, below the thresholds",
                                "anomalies": [{"split": "eval", "feature": HOSTILE, "short": "Out-of-range values",
                                               "description": "Unexpectedly large value: 6400.",
                                               "severity": "WARNING"}]}},
        "evaluation": evaluation,
        "environment": {"code_version": "0.1.0+g46bac5e2732e", "environment_hash": "sha256:c4547bf7",
                        "lock_hashes": {"requirements/pipeline.lock": "sha256:aa11", "kserve/requirements.lock":
                                        "sha256:bb22"},
                        "images": {"pipeline": "ghcr.io/loopline/loopline:0.1.0",
                                   "serving": "ghcr.io/loopline/loopline-serving:0.1.0"}},
        "intended_use": "Tells the three Palmer species apart from bill and body measurements.\n\n"
                        "Not for penguins of other islands or species.",
        "trigger": {"monitoring_run": "loopline-monitoring-2026-12-02", "reason": "drift: island L-inf 0.31 > 0.2"},
    }
    return {"model": "penguins", "version": 3, "time": "2026-12-02T18:48:18+00:00",
            "run": "loopline-training-2026-12-02-18-47-29", "info": info,
            "files": [{"path": "feature_spec.json", "bytes": 2052}, {"path": "saved_model/saved_model.pb",
                                                                     "bytes": 87127}]}


def regression_spec() -> dict:
    return {"label": "body_mass_g", "task": "regression", "classes": [], "label_mean": 4201.8, "label_std": 801.9,
            "features": [_feature("flipper_length_mm", NUMERIC, "int", min=172.0, max=231.0, mean=200.9),
                         _feature("sex", CATEGORICAL, "string", vocabulary=["female", "male"],
                                  missing_fraction=0.03)]}


def regression_record() -> dict:
    """Version 2 of a body-mass regressor, worse than production v1 and rejected; no data, environment, intended
    use, importance or trigger recorded."""
    candidate = {"count": 62, "rmse": 402.51, "mae": 318.77, "r2": 0.7412, "notes": []}
    production = {"count": 62, "rmse": 371.2, "mae": 300.05, "r2": 0.7798, "notes": []}
    evaluation = {"task": "regression", "classes": [], "candidate": candidate, "production": production,
                  "production_version": 1, "notes": [],
                  "decision": {"approved": False, "baseline_version": 1,
                               "reason": "rejected: rmse 402.5 is 31.31 above production v1 (371.2), tolerance 10",
                               "checks": [{"name": "rmse_vs_production", "value": 402.51, "limit": 381.2,
                                           "passed": False}]},
                  "slices": [{"column": "(overall)", "value": "(all)", "rows": 62, "rmse": 402.51, "mae": 318.77},
                             {"column": "sex", "value": "female", "rows": 30, "rmse": 350.25, "mae": 280.5}]}
    return {"model": "body-mass", "version": 2, "time": "2026-12-03T09:00:00+00:00", "run": "loopline-training-r2",
            "info": {"task": "regression", "evaluation": evaluation}, "files": []}


def events() -> list[Event]:
    """A version's life: registered, evaluated, pending, granted by a person, promoted, two monitoring windows."""
    def event(name: str, time: str, run: str, reason: str, **details: object) -> Event:
        return Event("penguins", name, 3, f"2026-12-0{time}", run, reason, details)

    return [event("registered", "2T18:48:18Z", "train-1", "new version", files=9, bytes=104562),
            event("evaluated", "2T18:48:19Z", "train-1", "evaluated on the eval split", accuracy=0.9516),
            event("pending_approval", "2T18:48:20Z", "train-1", "passed every gate; waits for a person"),
            event("approval_granted", "2T19:02:00Z", "cli-7", "checked the slices", by="ada@example.com"),
            event("promoted", "2T19:02:01Z", "cli-7", "approved by a person", previous=2),
            event("monitored", "3T06:00:00Z", "mon-1", "served traffic", window="2026-12-02T19:02..2026-12-03T06:00",
                  rows=5120, decision="ok", monitoring_run="mon-1"),
            event("monitored", "4T06:00:00Z", "mon-2", "served traffic", window="2026-12-03T06:00..2026-12-04T06:00",
                  rows=4870, decision="retrain", monitoring_run="mon-2")]


# --- reading a card back ----------------------------------------------------------------------------------


def md_sections(card: Card) -> dict[str, str]:
    """The Markdown card's sections by title ("The model", "Data", ...)."""
    parts = re.split(r"^## \d+\. (.+)$", card.markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def html_section(card: Card, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}">(.*?)</section>', card.html, flags=re.S)
    assert found, f"no section {section_id}"
    return found.group(1)


class _Rows(HTMLParser):
    """The text of each cell of each body row of the tables with a class, by class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._in_body = False
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("class") or ""
            self.tables.setdefault(self._table, [])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._row:
            self._row[-1] += data


def html_rows(card: Card, name: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(card.html)
    return parser.tables.get(name, [])


def md_table_rows(text: str, first_header: str) -> list[str]:
    """The body lines of the Markdown table whose header starts with `| first_header |`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    body = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        body.append(line)
    return body


# --- contents ---------------------------------------------------------------------------------------------


def test_classification_card_has_each_fact_in_its_section() -> None:
    card = render_card(classification_record(), classification_spec(), classification_metadata(), events())
    md = md_sections(card)

    assert list(md) == ["The model", "Data", "Evaluation", "Explanations", "Environment",
                        "Intended use and limitations", "Lifecycle so far"]
    assert card.markdown.startswith("# Model card: penguins v3\n")
    model = md["The model"]
    assert "- **Version:** 3" in model and "- **Label:** `species`" in model
    assert "- **Classes:** Adelie, Chinstrap, Gentoo" in model
    assert "retraining triggered by monitoring run loopline-monitoring-2026-12-02" in model
    assert "| `bill_length_mm` | numeric | float | 33.5 to 59.6 | 44.26 | 0.7% |" in model
    assert "| `island` | categorical | string | Biscoe, Dream, Torgersen | — | 0.0% |" in model
    assert "| `learning_rate` | 0.005 |" in model and "| `hidden_units` | 24 |" in model
    assert "- **Best epoch:** 17" in model and "- **Epochs run:** 22" in model
    assert "| `rowid` | left out | an integer id: all different |" in model

    data = md["Data"]
    assert "gs://penguins-raw/2026-12/penguins.csv" in data and "`sha256:cdf42f84`" in data
    assert "- **Training rows:** 282" in data and "- **Evaluation rows:** 62" in data
    assert "**data OK**" in data and "1 anomaly, below the thresholds" in data
    assert f"| eval | {HOSTILE_HTML} | Out-of-range values | Unexpectedly large value: 6400. | WARNING |" in data

    evaluation = md["Evaluation"]
    assert "| accuracy | 0.9516 |" in evaluation and "| log loss | 0.0831 |" in evaluation
    assert "| **Adelie** | **32** | 2 | 0 | 34 |" in evaluation  # true class per row, diagonal marked, total
    assert r"| true \ predicted | Adelie | Chinstrap | Gentoo | total |" in evaluation
    assert "| `Chinstrap` | 0.9412 | 0.9697 | 0.9552 | 0.998 | 10 |" in evaluation
    assert "| island | Dream | 27 | 0.8889 | 0.8765 |" in evaluation
    assert f"| {HOSTILE_HTML} | 7 | 1 | — | — |" in evaluation
    assert "| metric | this version | production v2 | change | candidate is |" in evaluation
    assert "| accuracy | 0.9516 | 0.9032 | +0.0484 | better |" in evaluation
    assert "| log loss | 0.0831 | 0.0831 | 0 | same |" in evaluation
    assert "- **Decision:** **approved**" in evaluation and "- **Judged against:** production v2" in evaluation
    assert "accuracy 0.9516 &gt;= production v2 (0.9032)" in evaluation
    assert "| `min_accuracy` | 0.9516 | 0.9 | **passed** |" in evaluation
    assert "- eval rows without a label: 2" in evaluation
    # The order the brief asks for: headline, confusion, per class, slices, comparison, decision.
    order = ["### Headline metrics", "### Confusion matrix", "### Per class", "### Metrics per slice",
             "### Compared with production", "### Decision"]
    assert [evaluation.index(h) for h in order] == sorted(evaluation.index(h) for h in order)

    explanations = md["Explanations"]
    assert "mean absolute integrated-gradients attribution" in explanations and "- **Steps:** 64" in explanations
    ranked = md_table_rows(explanations, "feature")
    assert [row.split(" | ")[0] for row in ranked] == ["| `bill_length_mm`", f"| {HOSTILE_HTML}", "| `island`"]
    assert ranked[0].endswith("| " + "█" * 20 + " |") and ranked[1].endswith("| " + "█" * 10 + " |")
    bars = re.findall(r'<rect class="fill" width="([\d.]+)"', html_section(card, "explanations"))
    assert bars == ["240.0", "120.0", "54.7"]  # proportional to 0.3125, 0.1562, 0.0712

    environment = md["Environment"]
    assert "`0.1.0+g46bac5e2732e`" in environment and "`sha256:c4547bf7`" in environment
    assert "| `requirements/pipeline.lock` | `sha256:aa11` |" in environment
    assert "| serving | `ghcr.io/loopline/loopline-serving:0.1.0` |" in environment

    assert "Not for penguins of other islands or species." in md["Intended use and limitations"]
    lifecycle = md["Lifecycle so far"]
    assert "| `2026-12-02T19:02:00Z` | **approval_granted** | `cli-7` | checked the slices | ada@example.com | — |" \
        in lifecycle
    assert "| `2026-12-04T06:00:00Z` | 2026-12-03T06:00..2026-12-04T06:00 | 4,870 | **retrain** | `mon-2` |" \
        in lifecycle
    assert NOT_RECORDED not in card.markdown  # everything was recorded

    # The HTML holds the same facts, in the same sections.
    assert "<strong>32</strong>" in html_section(card, "evaluation")
    assert html_rows(card, "comparison")[0] == ["accuracy", "0.9516", "0.9032", "+0.0484", "better"]
    assert ["ada@example.com"] == [r[4] for r in html_rows(card, "events") if r[1] == "approval_granted"]
    assert [r[3] for r in html_rows(card, "windows")] == ["ok", "retrain"]
    assert 'class="badge approved"' in card.html


def test_regression_card_shows_its_metrics_and_what_was_not_recorded() -> None:
    card = render_card(regression_record(), regression_spec(), {}, [])
    md = md_sections(card)

    assert "- **Task:** regression" in md["The model"] and "- **Label scale:** mean 4202, std 801.9" in md["The model"]
    assert "Classes" not in md["The model"]
    evaluation = md["Evaluation"]
    assert "| RMSE | 402.5 |" in evaluation and "| MAE | 318.8 |" in evaluation and "| R² | 0.7412 |" in evaluation
    assert "Confusion matrix" not in evaluation and "Per class" not in evaluation
    assert "| sex | female | 30 | 350.2 | 280.5 |" in evaluation
    assert "| RMSE | 402.5 | 371.2 | +31.31 | worse |" in evaluation  # lower is better
    assert "| R² | 0.7412 | 0.7798 | -0.0386 | worse |" in evaluation
    assert "- **Decision:** **rejected**" in evaluation and "| `rmse_vs_production` | 402.5 | 381.2 | **failed** |" \
        in evaluation
    assert 'class="badge rejected"' in card.html

    data, environment = md["Data"], md["Environment"]
    assert f"- **Source URIs:** *{NOT_RECORDED}*" in data and f"- **Content hash:** *{NOT_RECORDED}*" in data
    assert f"*The data validation decision: {NOT_RECORDED}.*" in data
    assert f"*Global feature importance: {NOT_RECORDED}.*" in md["Explanations"]
    assert f"- **Code version:** *{NOT_RECORDED}*" in environment and f"*Lock hashes: {NOT_RECORDED}.*" in environment
    assert f"*Images: {NOT_RECORDED}.*" in environment
    assert f"*Intended use and limitations: {NOT_RECORDED}.*" in md["Intended use and limitations"]
    assert f"- **Made by:** *{NOT_RECORDED}*" in md["The model"]
    assert f"*Training parameters: {NOT_RECORDED}*" in md["The model"]
    assert "No events are recorded yet." in md["Lifecycle so far"]
    assert f'<span class="absent">Lock hashes: {NOT_RECORDED}.</span>' in html_section(card, "environment")


def test_empty_and_null_values_are_told_apart_from_absent_ones() -> None:
    record = regression_record()
    record["info"].update(intended_use="", trigger=None)
    record["info"]["evaluation"].update(feature_importance=None, production=None, production_version=None, slices=[])
    md = md_sections(render_card(record, regression_spec(), {}, []))

    assert "None was given" in md["Intended use and limitations"]
    assert "a training run (not a monitoring-triggered retraining)" in md["The model"]
    assert "was not computed for this version" in md["Explanations"]
    assert "judged as a first model" in md["Evaluation"] and "No slices were measured." in md["Evaluation"]
    assert NOT_RECORDED not in md["Intended use and limitations"] + md["Explanations"]


def test_a_record_from_before_the_card_keys_falls_back_to_its_metrics_and_metadata() -> None:
    record = classification_record()
    info = record["info"]
    for key in ("data", "evaluation", "environment", "intended_use", "trigger"):
        del info[key]
    md = md_sections(render_card(record, classification_spec(), classification_metadata(), []))

    assert "| accuracy | 0.9516 |" in md["Evaluation"] and "| **Gentoo** | 0 | 0 | **18** | 18 |" in md["Evaluation"]
    assert f"*The metrics of production v2 on the same rows: {NOT_RECORDED}.*" in md["Evaluation"]
    assert f"*Metrics per slice: {NOT_RECORDED}.*" in md["Evaluation"]
    assert "/data/old.csv" in md["Data"] and "`sha256:cdf42f84`" in md["Data"]  # metadata and info fill in
    assert "- **Environment hash:** `sha256:meta`" in md["Environment"]


def test_a_record_with_nothing_says_not_recorded_everywhere() -> None:
    card = render_card({"model": "bare", "version": 1, "info": {}}, {}, {}, [])
    md = md_sections(card)

    for title in ("Data", "Evaluation", "Explanations", "Environment", "Intended use and limitations"):
        assert NOT_RECORDED in md[title], title
    assert f"Features: {NOT_RECORDED}" in md["The model"] and 'class="badge unknown"' in card.html


def test_values_from_the_data_are_escaped_everywhere() -> None:
    record = classification_record()
    record["info"]["intended_use"] = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    record["info"]["evaluation"]["classes"] = record["info"]["evaluation"]["candidate"]["classes"] = \
        ["Adelie", "<i>Chin|strap</i>", "Gentoo"]
    spec = classification_spec() | {"label": 'spe"cies<'}
    hostile_events = [Event("penguins", "approval_granted", 3, "2026-12-02T19:02:00Z", "cli", "<b>ok</b>",
                            {"by": "<svg onload=alert(3)>"})]
    card = render_card(record, spec, classification_metadata(), hostile_events)

    for text in (card.html, card.markdown):
        assert HOSTILE not in text and "<script" not in text and "<img" not in text and "<i>" not in text
        assert "<svg onload" not in text and "<b>ok" not in text
        assert HOSTILE_HTML in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text
    assert "spe&quot;cies&lt;" in card.html
    assert "&lt;i&gt;Chin\\|strap&lt;/i&gt;" in card.markdown  # a `|` cannot split a Markdown table cell
    # Self-contained: no scripts, nothing loaded, every link inside the page.
    assert not re.search(r"<[a-z]+[^>]*\s(src|srcset|data|poster)=", card.html) and "@import" not in card.html
    assert "url(" not in card.html and "http://" not in card.html and "https://" not in card.html
    assert set(re.findall(r'href="([^"]*)"', card.html)) == {f"#{s}" for s in (
        "model", "data", "evaluation", "explanations", "environment", "intended-use", "lifecycle")}


def test_appending_events_only_appends_to_the_card() -> None:
    record, spec, metadata = classification_record(), classification_spec(), classification_metadata()
    history = events()
    full = render_card(record, spec, metadata, history)
    head = full.html.split('<section id="lifecycle">')[0]
    md_head = full.markdown.split("## 7. Lifecycle so far")[0]

    for k in range(len(history)):
        card = render_card(record, spec, metadata, history[:k])
        assert card.html.split('<section id="lifecycle">')[0] == head
        assert card.markdown.split("## 7. Lifecycle so far")[0] == md_head
        for name in ("events", "windows"):
            rows, all_rows = html_rows(card, name), html_rows(full, name)
            assert rows == all_rows[:len(rows)], name
        assert len(html_rows(card, "events")) == k
        if k:
            lifecycle = md_sections(card)["Lifecycle so far"]
            assert md_table_rows(lifecycle, "time") == md_table_rows(md_sections(full)["Lifecycle so far"],
                                                                     "time")[:k]
    assert len(html_rows(full, "windows")) == 2


def test_rendering_does_not_change_its_inputs_and_is_deterministic() -> None:
    record, spec, metadata = classification_record(), classification_spec(), classification_metadata()
    before = copy.deepcopy((record, spec, metadata))
    first = render_card(record, spec, metadata, events())
    assert (record, spec, metadata) == before
    assert render_card(record, spec, metadata, events()) == first


# --- write_card --------------------------------------------------------------------------------------------


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.gcs)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    """A fresh registry: a local folder, or a fresh prefix in the session emulator's bucket."""
    return Registry(local_or_gcs_root(request, tmp_path / "registry", "model-cards"))


def _bundle(folder: Path, tag: str) -> Path:
    """A stand-in bundle: a real feature spec and metadata, and a file standing for the SavedModel."""
    spec = FeatureSpec(label="species", task=CLASSIFICATION, classes=CLASSES, features=[
        Feature("island", CATEGORICAL, "string", vocabulary=["Biscoe", "Dream"]),
        Feature(HOSTILE, NUMERIC, "float", min=30.0, max=60.0, mean=44.0)])
    write_bundle_files(folder, spec, classification_metadata() | {"best_epoch": 11, "tag": tag})
    (folder / "saved_model").mkdir()
    (folder / "saved_model" / "saved_model.pb").write_bytes(b"graph-" + tag.encode())
    return folder


def test_write_card_writes_both_files_beside_the_registry(registry: Registry, tmp_path: Path) -> None:
    info = classification_record()["info"]
    registry.register("penguins", _bundle(tmp_path / "b1", "v1"), "train-1", {"task": "classification"})
    registry.register("penguins", _bundle(tmp_path / "b2", "v2"), "train-2", info)
    registry.record("penguins", "approved", 2, "train-2", "approved: accuracy 0.9516 >= floor 0.9")
    registry.record("penguins", "approved", 1, "train-1", "approved: an event of another version")

    html_uri, md_uri = write_card(registry, "penguins", 2)

    folder = uri_io.join(registry.root, "penguins", CARDS_DIR, "2")
    assert (html_uri, md_uri) == card_uris(registry, "penguins", 2) == (uri_io.join(folder, HTML_FILE),
                                                                         uri_io.join(folder, MARKDOWN_FILE))
    html, md = uri_io.read_text(html_uri), uri_io.read_text(md_uri)
    bundle = tmp_path / "b2"
    own = [e for e in registry.events("penguins") if e.version == 2]
    expected = render_card(registry.registration("penguins", 2), json.loads((bundle / FEATURE_SPEC_FILE).read_text()),
                           json.loads((bundle / METADATA_FILE).read_text()), own)
    assert (md, html) == (expected.markdown, expected.html)
    assert md.startswith("# Model card: penguins v2\n") and html.startswith("<!DOCTYPE html>")
    assert [r[1] for r in html_rows(expected, "events")] == ["registered", "approved"]  # not version 1's
    assert "- **Best epoch:** 11" in md and HOSTILE_HTML in md and "gs://penguins-raw/2026-12/penguins.csv" in md

    registry.promote("penguins", 2, "cli-1", "approved by a person")
    write_card(registry, "penguins", 2)
    grown = uri_io.read_text(html_uri)
    assert grown.split('<section id="lifecycle">')[0] == html.split('<section id="lifecycle">')[0]
    assert [r[1] for r in html_rows(Card("", grown), "events")] == ["registered", "approved", "promoted"]
    assert write_card(registry, "penguins", 1) == card_uris(registry, "penguins", 1)
    assert "# Model card: penguins v1" in uri_io.read_text(card_uris(registry, "penguins", 1)[1])


def test_write_card_refuses_a_version_that_is_not_there(registry: Registry, tmp_path: Path) -> None:
    from components.lib.registry_records import RegistryError

    registry.register("penguins", _bundle(tmp_path / "b1", "v1"), "train-1", {})
    with pytest.raises(RegistryError, match="no version 5"):
        write_card(registry, "penguins", 5)
    with pytest.raises(RegistryError, match="invalid version"):
        card_uris(registry, "penguins", 0)
