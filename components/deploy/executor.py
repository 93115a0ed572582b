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

from components.deploy import inference_service
from components.deploy.inference_service import ServiceSettings, render
from components.errors import LooplineInputError, RolloutError
from components.lib import uri as uri_io
from components.lib.bundle import FEATURE_SPEC_FILE
from components.lib.registry import Registry
from components.lib.registry_audit import DEPLOYED, ROLLED_BACK, SKIPPED
from components.lib.serving import call

TARGETS = ("local", "kserve")


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


def _canary_gate(monitoring_uri: str, version: int) -> str:
    """Why the canary verdict blocks this version ("" when there is no monitoring result to obey, or it says
    promote)."""
    if not monitoring_uri:
        return ""
    from components.monitor.canary import promotion_verdict, read_verdict

    allowed, note = promotion_verdict(read_verdict(monitoring_uri), version)
    return "" if allowed else f"{note} ({monitoring_uri})"


def deploy(
    registry_uri: str, model_name: str, version: int, approved: bool, approval_reason: str, infra_ok: bool,
    infra_reason: str, model_repository: str, run: str, server_url: str = "",
    log: Callable[[str], None] = print, target: str = "local", settings: ServiceSettings = ServiceSettings(),
    rollout_timeout: float = 600, service_file: Path | None = None, monitoring_uri: str = "",
) -> DeployResult:
    """Deploy to the `local` or `kserve` target, or record why not. `service_file` receives the
    InferenceService for the version (applied with target `kserve`; for review otherwise). With
    `monitoring_uri` (a monitoring.json or its folder) the version is a canary under watch: it is
    deployed only when that result's canary verdict for it is `promote`."""
    if target not in TARGETS:
        raise LooplineInputError(f"deploy target must be one of {TARGETS}, got {target!r}")
    registry = Registry(registry_uri)
    service = render(model_name, registry.version(model_name, version).uri, version, settings)
    if service_file is not None:
        inference_service.write(service_file, service, (
            f"{model_name} v{version}: applied by deploy (target kserve)" if target == "kserve" else
            f"{model_name} v{version}: what deploy_target=kserve applies (this run's target: {target})"))
    blocked = ("not approved: " + approval_reason) if not approved else (
        "infra validation failed: " + infra_reason if not infra_ok else _canary_gate(monitoring_uri, version))
    if blocked:
        registry.record(model_name, SKIPPED, version, run, blocked)
        log(f"deploy: skipped v{version}: {blocked}")
        return DeployResult(False, blocked)
    if target == "kserve":  # promote only once the service is Ready
        try:
            served = serve_version(registry, model_name, version, target, timeout=rollout_timeout, service=service)
        except RolloutError as err:
            registry.record(model_name, ROLLED_BACK, version, run, str(err))
            raise RolloutError(f"deploy of {model_name} v{version} failed: {err}; production unchanged") from None
        registry.promote(model_name, version, run, f"approved ({approval_reason}); {served}")
    else:
        registry.promote(model_name, version, run, f"approved ({approval_reason}); {infra_reason}")
        served = serve_version(registry, model_name, version, target, str(model_repository or ""), server_url)
    reason = f"v{version} is production" + (f"; {served}" if served else "")
    registry.record(model_name, DEPLOYED, version, run, reason)
    log(f"deploy: {reason}")
    return DeployResult(True, reason)


def serve_version(registry: Registry, model_name: str, version: int, target: str, model_repository: str = "",
                  server_url: str = "", settings: ServiceSettings = ServiceSettings(), timeout: float = 600,
                  service: dict | None = None) -> str:
    """Make `version` the one served; says what was done. Target `local`: place its bundle in
    `model_repository` and ask the server at `server_url` to load it (each when given). Target
    `kserve`: apply its InferenceService (`service` when already rendered, else rendered from
    `settings`) and wait for Ready, else restore the previous one and raise RolloutError. Used by
    deploy and by `loopline models promote|rollback`."""
    if target not in TARGETS:
        raise LooplineInputError(f"deploy target must be one of {TARGETS}, got {target!r}")
    if target == "kserve":
        from components.deploy.kubernetes_target import apply_and_wait, custom_objects_api

        service = service or render(model_name, registry.version(model_name, version).uri, version, settings)
        rollout = apply_and_wait(custom_objects_api(), service, timeout)
        if not rollout.ready:
            raise RolloutError(rollout.reason)
        return rollout.reason
    done = []
    if model_repository:
        done.append(f"bundle at {place(registry, model_name, version, model_repository)}")
    if server_url:
        status, answer = call(f"{server_url.rstrip('/')}/v2/repository/models/{model_name}/load", {})
        done.append(f"server {server_url} load: {status}" + ("" if status == 200 else f" {answer}"))
    return "; ".join(done)
