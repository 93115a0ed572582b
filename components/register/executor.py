"""register's logic, free of KFP: a new immutable version with what its model card needs, its evaluation events in
the audit log, and the card itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from components import keys
from components.lib.bundle import read_bundle
from components.lib.model_card_store import write_card
from components.lib.registry import Registry, Version
from components.lib.registry_audit import APPROVED, EVALUATED, REJECTED


def _without_curves(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """Metrics as the registry keeps them: the ROC curves (hundreds of points) stay in the run's artifacts."""
    return None if metrics is None else metrics | {"roc_curves": None}


def data_facts(metadata: dict[str, Any], evaluation: dict[str, Any], data_check_dir: Path | None) -> dict[str, Any]:
    """The data a version was made from: source, content hash, rows per split and validate's decision."""
    check = Path(data_check_dir) / keys.DECISION_FILE if data_check_dir else None
    decision = json.loads(check.read_text()) if check and check.is_file() else None
    return {
        "source_uris": list(metadata.get("source_uris") or []),
        "data_hash": metadata.get("data_hash", ""),
        "train_rows": metadata.get("train_rows"),
        "eval_rows": (evaluation.get("candidate") or {}).get("count"),
        "validation": None if decision is None else {
            "data_ok": decision.get("data_ok"), "reason": decision.get("reason", ""),
            "anomalies": decision.get("anomaly_rows", [])},
    }


def trigger_of(triggered_by: str) -> dict[str, Any] | None:
    """What started the run that made this version: retrain's JSON ({"monitoring_run", "reason"}), else the text."""
    if not triggered_by.strip():
        return None
    try:
        found = json.loads(triggered_by)
    except ValueError:
        return {"reason": triggered_by}
    return found if isinstance(found, dict) else {"reason": triggered_by}


def register(
    bundle_dir: Path,
    evaluation_dir: Path,
    registry_uri: str,
    model_name: str,
    run: str,
    log: Callable[[str], None] = print,
    *,
    data_check_dir: Path | None = None,
    intended_use: str = "",
    triggered_by: str = "",
    environment: dict[str, Any] | None = None,
) -> Version:
    """Register the candidate (approved or not: the registry keeps every candidate and why), with the facts its
    model card shows (data, evaluation, environment, intended use, trigger), and write the card."""
    _, metadata = read_bundle(bundle_dir)
    evaluation: dict[str, Any] = json.loads((Path(evaluation_dir) / keys.EVALUATION_FILE).read_text())
    decision = evaluation["decision"]
    registry = Registry(registry_uri)
    info = {
        "metrics": _without_curves(evaluation["candidate"]),
        "decision": decision,
        "production_version": evaluation["production_version"],
        "data_hash": metadata.get("data_hash", ""),
        "task": metadata.get("task", ""),
        "code_version": metadata.get("code_version", ""),
        "data": data_facts(metadata, evaluation, data_check_dir),
        "evaluation": {**evaluation, "candidate": _without_curves(evaluation["candidate"]),
                       "production": _without_curves(evaluation.get("production"))},
        "environment": {"code_version": metadata.get("code_version", ""),
                        "environment_hash": metadata.get("environment_hash", ""), **(environment or {})},
        "intended_use": intended_use,
        "trigger": trigger_of(triggered_by),
    }
    version = registry.register(model_name, Path(bundle_dir), run, info)
    registry.record(model_name, EVALUATED, version.number, run, "evaluated on the eval split",
                    {k: evaluation["candidate"].get(k) for k in ("accuracy", "macro_f1", "rmse", "mae")})
    registry.record(model_name, APPROVED if decision["approved"] else REJECTED, version.number, run,
                    decision["reason"])
    write_card(registry, model_name, version.number)
    log(f"register: {model_name} v{version.number} at {version.uri} "
        f"({'approved' if decision['approved'] else 'not approved'}: {decision['reason']})")
    return version
