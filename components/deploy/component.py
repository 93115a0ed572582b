"""deploy's KFP contract: the gates' decisions in, production changed (or a recorded skip) out."""

from typing import NamedTuple

from kfp import dsl

from components._image import PIPELINE_IMAGE


@dsl.component(base_image=PIPELINE_IMAGE, install_kfp_package=False)
def deploy(
    registry_uri: str,
    model_name: str,
    version: int,
    approved: bool,
    approval_reason: str,
    infra_ok: bool,
    infra_reason: str,
    model_repository: str = "",
    server_url: str = "",
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> NamedTuple("Deployment", [("deployed", bool), ("reason", str)]):
    """Target `local`: promote the version and place its bundle in `model_repository` (if given); skip, with
    the reason recorded in the registry's audit log, when it is not approved or not infra-validated."""
    from collections import namedtuple
    from pathlib import Path

    from components.deploy.executor import deploy as run_deploy

    result = run_deploy(registry_uri, model_name, version, approved, approval_reason, infra_ok, infra_reason,
                        model_repository and Path(model_repository), run_id, server_url)
    return namedtuple("Deployment", ["deployed", "reason"])(result.deployed, result.reason)
