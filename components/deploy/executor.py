"""deploy's logic (target `local`): gates as recorded decisions, then promote and place the bundle.

Not approved or not infra-validated -> a "skipped" event with the reason, nothing changes.
Otherwise the version becomes `production` (the old one `previous`), its bundle replaces
`<model_repository>/<model>` whole (copied beside it, then swapped by rename), and a running local
server, when its URL is given, is asked to load it (V2 repository API).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from components import uri as uri_io
from components.bundle import FEATURE_SPEC_FILE
from components.deploy import inference_service
from components.deploy.inference_service import ServiceSettings, render
from components.errors import LooplineInputError
from components.registry import DEPLOYED, ROLLED_BACK, SKIPPED, Registry
from components.serving import call

TARGETS = ("local", "kserve")


class RolloutError(RuntimeError):
    """The new InferenceService did not become Ready; traffic was rolled back, production is unchanged."""


@dataclass(frozen=True)
class DeployResult:
    """Whether the version went to production, and why (not)."""

    deployed: bool
    reason: str


def place(registry: Registry, model_name: str, version: int, repository: str) -> str:
    """Put the version's bundle at <repository>/<model_name>: locally never half a bundle (copied
    beside it, swapped by rename); on gs:// (no rename) replaced with feature_spec.json written last,
    so a reader that finds the spec finds the whole bundle."""
    if uri_io.is_gcs(repository):
        target_uri = uri_io.join(repository, model_name)
        with tempfile.TemporaryDirectory(prefix="loopline-place-") as tmp:
            registry.download(model_name, version, Path(tmp))
            uri_io.delete(uri_io.join(target_uri, FEATURE_SPEC_FILE))
            uri_io.delete_tree(target_uri)
            uri_io.upload_tree(Path(tmp), target_uri, last=(FEATURE_SPEC_FILE,))
        return target_uri
    local = Path(repository)
    target = local / model_name
    incoming, outgoing = local / f".{model_name}.incoming", local / f".{model_name}.outgoing"
    for leftover in (incoming, outgoing):
        shutil.rmtree(leftover, ignore_errors=True)
    local.mkdir(parents=True, exist_ok=True)
    registry.download(model_name, version, incoming)
    if target.exists():
        target.rename(outgoing)
    incoming.rename(target)
    shutil.rmtree(outgoing, ignore_errors=True)
    return str(target)


def deploy(
    registry_uri: str, model_name: str, version: int, approved: bool, approval_reason: str, infra_ok: bool,
    infra_reason: str, model_repository: str, run: str, server_url: str = "",
    log: Callable[[str], None] = print, target: str = "local", settings: ServiceSettings = ServiceSettings(),
    rollout_timeout: float = 600, service_file: Path | None = None,
) -> DeployResult:
    """Deploy to the `local` or `kserve` target, or record why not. `service_file` receives the
    InferenceService for the version (applied with target `kserve`; for review otherwise)."""
    if target not in TARGETS:
        raise LooplineInputError(f"deploy target must be one of {TARGETS}, got {target!r}")
    registry = Registry(registry_uri)
    service = render(model_name, registry.version(model_name, version).uri, version, settings)
    if service_file is not None:
        inference_service.write(service_file, service, (
            f"{model_name} v{version}: applied by deploy (target kserve)" if target == "kserve" else
            f"{model_name} v{version}: what deploy_target=kserve applies (this run's target: {target})"))
    blocked = ("not approved: " + approval_reason) if not approved else (
        "infra validation failed: " + infra_reason if not infra_ok else "")
    if blocked:
        registry.record(model_name, SKIPPED, version, run, blocked)
        log(f"deploy: skipped v{version}: {blocked}")
        return DeployResult(False, blocked)
    if target == "kserve":
        return _deploy_kserve(registry, service, model_name, version, run, approval_reason, rollout_timeout, log)
    registry.promote(model_name, version, run, f"approved ({approval_reason}); {infra_reason}")
    reason = f"v{version} is production"
    if model_repository:
        reason += f"; bundle at {place(registry, model_name, version, str(model_repository))}"
    if server_url:
        status, answer = call(f"{server_url.rstrip('/')}/v2/repository/models/{model_name}/load", {})
        reason += f"; server {server_url} load: {status}" + ("" if status == 200 else f" {answer}")
    registry.record(model_name, DEPLOYED, version, run, reason)
    log(f"deploy: {reason}")
    return DeployResult(True, reason)


def _deploy_kserve(registry: Registry, service: dict, model_name: str, version: int, run: str,
                   approval_reason: str, timeout: float, log: Callable[[str], None]) -> DeployResult:
    """Roll the registry version out as the rendered InferenceService; promote only once it is Ready."""
    from components.deploy.kubernetes_target import apply_and_wait, custom_objects_api

    rollout = apply_and_wait(custom_objects_api(), service, timeout)
    if not rollout.ready:
        registry.record(model_name, ROLLED_BACK, version, run, rollout.reason)
        raise RolloutError(f"deploy of {model_name} v{version} failed: {rollout.reason}; production unchanged")
    registry.promote(model_name, version, run, f"approved ({approval_reason}); {rollout.reason}")
    registry.record(model_name, DEPLOYED, version, run, rollout.reason)
    log(f"deploy: {rollout.reason}; v{version} is production")
    return DeployResult(True, f"v{version} is production; {rollout.reason}")
