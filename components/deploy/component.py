"""deploy's KFP contract: the gates' decisions in, production changed (or a recorded skip) out."""

from typing import NamedTuple

from kfp import dsl


def deploy(
    registry_uri: str,
    model_name: str,
    version: int,
    approved: bool,
    approval_reason: str,
    infra_ok: bool,
    infra_reason: str,
    inference_service: dsl.Output[dsl.Artifact],
    model_repository: str = "",
    server_url: str = "",
    target: str = "local",
    namespace: str = "loopline",
    min_replicas: int = 1,
    max_replicas: int = 3,
    canary_traffic_percent: int = -1,
    rollout_timeout_seconds: float = 600,
    monitoring_uri: str = "",
    approval: str = "auto",
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> NamedTuple("Deployment", [("deployed", bool), ("reason", str)]):
    """Skip, with the reason in the registry's audit log, when not approved or not infra-validated.

    Target `local`: promote the version and place its bundle in `model_repository` (if given).
    Target `kserve`: create or replace the InferenceService (storageUri = the registry version) in
    `namespace`, wait for Ready; promote only then. On timeout, restore the previous service, leave
    production unchanged and fail with the reason. `inference_service`: the rendered
    InferenceService (YAML) for the version, whichever the target. `monitoring_uri` (a monitor step's
    monitoring.json or its folder): the version is a canary under watch, deployed in full only when
    that result's canary verdict for it is `promote` (else skipped, with the verdict as the reason).
    `approval`: "auto" deploys a version that passes every gate; "manual" records it `pending_approval` and
    deploys nothing until a person runs `loopline models approve` (or `reject`).
    """
    from collections import namedtuple
    from pathlib import Path

    from components.deploy.executor import deploy as run_deploy
    from components.deploy.inference_service import ServiceSettings

    settings = ServiceSettings(namespace=namespace, min_replicas=min_replicas, max_replicas=max_replicas,
                               canary_traffic_percent=canary_traffic_percent)
    result = run_deploy(registry_uri, model_name, version, approved, approval_reason, infra_ok, infra_reason,
                        model_repository, run_id, server_url, target=target,
                        settings=settings, rollout_timeout=rollout_timeout_seconds,
                        service_file=Path(inference_service.path), monitoring_uri=monitoring_uri,
                        approval=approval)
    return namedtuple("Deployment", ["deployed", "reason"])(result.deployed, result.reason)
