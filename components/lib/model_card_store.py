"""Model cards in the registry: render a version's card from what the registry holds and write it beside it.

    <root>/<model>/cards/<n>/model-card.html     the self-contained page (components/lib/model_card.py)
    <root>/<model>/cards/<n>/model-card.md       its Markdown twin

Cards live outside `versions/<n>/`, which is immutable once complete: a card is rewritten (whole, never in
part) each time the version's lifecycle grows, and rendering the same registry state twice writes the same
bytes. Works on a local folder and on gs:// alike (components/lib/uri). No kfp, no TensorFlow.
"""

from __future__ import annotations

import json

from components.lib import uri as uri_io
from components.lib.bundle import FEATURE_SPEC_FILE, METADATA_FILE
from components.lib.model_card import render_card
from components.lib.registry import Registry
from components.lib.registry_audit import MONITORED, Event
from components.lib.registry_records import check_name, check_number

CARDS_DIR = "cards"
HTML_FILE = "model-card.html"
MARKDOWN_FILE = "model-card.md"


def card_uris(registry: Registry, model: str, number: int) -> tuple[str, str]:
    """Where the card of version `number` of `model` is written: (HTML URI, Markdown URI)."""
    folder = uri_io.join(registry.root, check_name(model, "model"), CARDS_DIR, str(check_number(model, number)))
    return uri_io.join(folder, HTML_FILE), uri_io.join(folder, MARKDOWN_FILE)


def _read_json(uri: str) -> dict:
    """A bundle file's JSON object, or {} when the version has no such file (the card says "not recorded")."""
    data = uri_io.read_bytes_if_exists(uri)
    if data is None:
        return {}
    value = json.loads(data)
    return value if isinstance(value, dict) else {}


def _with_trigger_window(record: dict, events: list[Event]) -> dict:
    """The record with its trigger's monitoring window (the `monitored` event of the triggering run) added, for a
    version made by a monitoring-triggered retraining; else the record as it is."""
    info = record.get("info") or {}
    trigger = info.get("trigger")
    run = trigger.get("monitoring_run") if isinstance(trigger, dict) else ""
    seen = next((e for e in events if run and e.event == MONITORED and e.run == run), None)
    if seen is None:
        return record
    return {**record, "info": {**info, "trigger": {**trigger, "window": seen.details.get("window", ""),
                                                   "monitored_version": seen.version}}}


def write_card(registry: Registry, model: str, number: int) -> tuple[str, str]:
    """Render the card of a complete version from its registration, feature spec, metadata and audit events,
    write both files and return their URIs (HTML, Markdown). RegistryError if the version is absent."""
    record = registry.registration(model, number)
    version_uri = registry.version_uri(model, number)
    spec = _read_json(uri_io.join(version_uri, FEATURE_SPEC_FILE))
    metadata = _read_json(uri_io.join(version_uri, METADATA_FILE))
    everything = registry.events(model)
    events = [e for e in everything if e.version == number]
    card = render_card(_with_trigger_window(record, everything), spec, metadata, events)
    html_uri, markdown_uri = card_uris(registry, model, number)
    uri_io.write_text(markdown_uri, card.markdown)
    uri_io.write_text(html_uri, card.html)
    return html_uri, markdown_uri
