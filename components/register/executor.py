"""register's logic, free of KFP: a new immutable version, plus the evaluation events in the audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from components.keys import EVALUATION_FILE
from components.lib.bundle import read_bundle
from components.lib.registry import Registry, Version
from components.lib.registry_audit import APPROVED, EVALUATED, REJECTED


def register(
    bundle_dir: Path,
    evaluation_dir: Path,
    registry_uri: str,
    model_name: str,
    run: str,
    log: Callable[[str], None] = print,
) -> Version:
    """Register the candidate (approved or not: the registry keeps every candidate and why)."""
    _, metadata = read_bundle(bundle_dir)
    evaluation: dict[str, Any] = json.loads((Path(evaluation_dir) / EVALUATION_FILE).read_text())
    decision = evaluation["decision"]
    registry = Registry(registry_uri)
    info = {
        "metrics": evaluation["candidate"] | {"roc_curves": None},
        "decision": decision,
        "production_version": evaluation["production_version"],
        "data_hash": metadata.get("data_hash", ""),
        "task": metadata.get("task", ""),
        "code_version": metadata.get("code_version", ""),
    }
    version = registry.register(model_name, Path(bundle_dir), run, info)
    registry.record(model_name, EVALUATED, version.number, run, "evaluated on the eval split",
                    {k: evaluation["candidate"].get(k) for k in ("accuracy", "macro_f1", "rmse", "mae")})
    registry.record(model_name, APPROVED if decision["approved"] else REJECTED, version.number, run,
                    decision["reason"])
    log(f"register: {model_name} v{version.number} at {version.uri} "
        f"({'approved' if decision['approved'] else 'not approved'}: {decision['reason']})")
    return version
