"""A version's lineage, from the registry alone: data source and hash -> validation -> training -> evaluation
(against which production version) -> approval -> deployments (and when another version replaced it) ->
monitoring windows and the retraining each started.

Everything comes from the version's registration record and the model's audit log, so it works wherever the
registry lives (a folder or gs://) and needs no pipeline run or artifact store. A version made by a
monitoring-triggered retraining names the monitoring run, and so the window, that started it.
Nothing here imports TensorFlow or kfp.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from components.lib.registry import PRODUCTION, Registry
from components.lib.registry_audit import (
    APPROVAL_GRANTED,
    APPROVAL_REJECTED,
    APPROVED,
    DEPLOYED,
    EVALUATED,
    MONITORED,
    PENDING_APPROVAL,
    PROMOTED,
    REJECTED,
    RETRAIN_SKIPPED,
    RETRAIN_TRIGGERED,
    ROLLED_BACK,
    SKIPPED,
    Event,
)

_DEPLOYMENT_EVENTS = (PROMOTED, DEPLOYED, ROLLED_BACK)
_APPROVAL_EVENTS = (PENDING_APPROVAL, APPROVAL_GRANTED, APPROVAL_REJECTED)


def _event(event: Event) -> dict[str, Any]:
    return {k: v for k, v in asdict(event).items() if k != "model"}


def _first(events: list[Event], *names: str) -> Event | None:
    return next((e for e in events if e.event in names), None)


def _retraining(events: list[Event], window: Event) -> Event | None:
    """The retraining decision the monitoring run of `window` made after it (a pipeline run monitors once)."""
    return next((e for e in events if e.event in (RETRAIN_TRIGGERED, RETRAIN_SKIPPED) and e.run == window.run
                 and e.time >= window.time), None)


def _window(events: list[Event], monitoring_run: str) -> dict[str, Any] | None:
    """The monitoring window recorded by `monitoring_run` (its last), with the retraining it started (if any)."""
    windows = [e for e in events if monitoring_run and e.event == MONITORED and e.run == monitoring_run]
    if not windows:
        return None
    retrain = _retraining(events, windows[-1])
    return {"monitoring_run": monitoring_run, "window": _event(windows[-1]),
            "retraining": _event(retrain) if retrain else None}


def lineage(registry: Registry, model: str, number: int) -> dict[str, Any]:
    """The lineage of version `number` of `model` as JSON-ready data (see the module docstring)."""
    version = registry.version(model, number)
    info = version.info or {}
    everything = registry.events(model)
    own = [e for e in everything if e.version == number]
    production = registry.alias(model, PRODUCTION)
    data = info.get("data") or {"data_hash": info.get("data_hash", "")}
    trigger = info.get("trigger")
    triggered = {v.number: ((v.info or {}).get("trigger") or {}).get("monitoring_run")
                 for v in registry.versions(model)}
    evaluated = _first(own, EVALUATED)
    verdict = _first(own, APPROVED, REJECTED)
    monitoring = []
    for event in (e for e in own if e.event == MONITORED):
        retrain = _retraining(everything, event)
        monitoring.append({"monitoring_run": event.run, "window": _event(event),
                           "retraining": _event(retrain) if retrain else None,
                           "produced": [n for n, run in triggered.items() if retrain and run == event.run]})
    return {
        "model": model,
        "version": number,
        "served": production is not None and production.number == number,
        "registered": {"time": version.time, "run": version.run, "uri": version.uri},
        "data": {"source_uris": data.get("source_uris", []), "data_hash": data.get("data_hash", ""),
                 "train_rows": data.get("train_rows"), "eval_rows": data.get("eval_rows")},
        "validation": {"run": version.run, **(data.get("validation") or {"recorded": False})},
        "trigger": None if not trigger else {**trigger, **(_window(everything, trigger.get("monitoring_run", ""))
                                                           or {})},
        "training": {"run": version.run, "code_version": (info.get("environment") or {}).get(
            "code_version", info.get("code_version", ""))},
        "evaluation": {
            "time": evaluated.time if evaluated else None,
            "against_production_version": info.get("production_version"),
            "approved": (info.get("decision") or {}).get("approved"),
            "reason": verdict.reason if verdict else (info.get("decision") or {}).get("reason", ""),
        },
        "gates": [_event(e) for e in own if e.event == SKIPPED],
        "approval": [_event(e) for e in own if e.event in _APPROVAL_EVENTS],
        "deployments": [_event(e) for e in everything if e.event in _DEPLOYMENT_EVENTS and (
            e.version == number or (e.event == ROLLED_BACK and e.details.get("from") == number)
            or (e.event == PROMOTED and e.details.get("previous") == number))],
        "monitoring": monitoring,
    }
