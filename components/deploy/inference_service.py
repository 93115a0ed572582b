"""Render the KServe `InferenceService` (serving.kserve.io/v1beta1) for a registry version."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.lib.registry_records import check_name

RUNTIME = "loopline-predictor"
MODEL_FORMAT = "loopline"


@dataclass(frozen=True)
class ServiceSettings:
    """What the deploy step sets on the InferenceService besides the model's storage URI."""

    namespace: str = "loopline"
    service_account: str = ""
    cpu: str = "1"
    memory: str = "1Gi"
    min_replicas: int = 1
    max_replicas: int = 3
    scale_metric: str = "concurrency"
    scale_target: int = 8
    canary_traffic_percent: int = -1  # -1: no canary, all traffic to the new revision at once
    logger_url: str = ""  # KServe's payload logger sink (e.g. a broker), "" = off
    labels: dict[str, str] = field(default_factory=dict)


def render(name: str, storage_uri: str, version: int, settings: ServiceSettings) -> dict[str, Any]:
    """The InferenceService object as a dict, ready for the Kubernetes API."""
    check_name(name)
    if not 0 <= settings.min_replicas <= settings.max_replicas:
        raise ValueError(f"replicas: need 0 <= min ({settings.min_replicas}) <= max ({settings.max_replicas})")
    if not -1 <= settings.canary_traffic_percent <= 100:
        raise ValueError(f"canary_traffic_percent must be -1 (off) or 0..100, got {settings.canary_traffic_percent}")
    resources = {"cpu": settings.cpu, "memory": settings.memory}
    predictor: dict[str, Any] = {
        "minReplicas": settings.min_replicas,
        "maxReplicas": settings.max_replicas,
        "scaleMetric": settings.scale_metric,
        "scaleTarget": settings.scale_target,
        "model": {
            "modelFormat": {"name": MODEL_FORMAT},
            "runtime": RUNTIME,
            "storageUri": storage_uri,
            "resources": {"requests": resources, "limits": resources},
        },
    }
    if settings.service_account:
        predictor["serviceAccountName"] = settings.service_account
    if settings.canary_traffic_percent >= 0:
        predictor["canaryTrafficPercent"] = settings.canary_traffic_percent
    if settings.logger_url:
        predictor["logger"] = {"mode": "all", "url": settings.logger_url}
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": settings.namespace,
            "labels": {"app.kubernetes.io/part-of": "loopline", **settings.labels},
            "annotations": {"loopline.dev/model-version": str(version)},
        },
        "spec": {"predictor": predictor},
    }


def write(path: Path, service: dict[str, Any], note: str) -> None:
    """Save the rendered InferenceService as YAML (for `kubectl apply -f` or review), headed by `note`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {note}\n" + yaml.safe_dump(service, sort_keys=False))
