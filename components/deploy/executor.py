"""deploy's logic (target `local`): gates as recorded decisions, then promote and place the bundle.

Not approved or not infra-validated -> a "skipped" event with the reason, nothing changes.
With approval "manual", a version that passes every gate -> a "pending_approval" event (with where it would be
served), nothing changes until `loopline models approve` releases it. Otherwise the version becomes
`production` (the old one `previous`), its bundle replaces `<model_repository>/<model>` whole (copied
beside it, then swapped by rename), and a running local server, when its URL is given, is asked to
load it (V2 repository API).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from components.deploy import inference_service
from components.deploy.inference_service import ServiceSettings, render
from components.errors import LooplineInputError, RolloutError
from components.lib import uri as uri_io
from components.lib.bundle import FEATURE_SPEC_FILE
from components.lib.model_card_store import write_card
from components.lib.registry import Registry
from components.lib.registry_audit import DEPLOYED, PENDING_APPROVAL, ROLLED_BACK, SKIPPED
from components.lib.serving import call

TARGETS = ("local", "kserve")
APPROVALS = ("auto", "manual")  # manual: a version that passes every gate waits for a person


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


@dataclass(frozen=True)
class Destination:
    """Where and how a version is served: the deploy step's target and its settings (kept with a pending approval,
    so `loopline models approve` serves it where the run would have)."""

    target: str = "local"
    model_repository: str = ""
    server_url: str = ""
    settings: ServiceSettings = ServiceSettings()
    rollout_timeout: float = 600

    def to_dict(self) -> dict:
        """The destination as JSON-ready data (an audit event's details)."""
        return {"target": self.target, "model_repository": self.model_repository, "server_url": self.server_url,
                "settings": asdict(self.settings), "rollout_timeout": self.rollout_timeout}

    @classmethod
    def from_dict(cls, data: dict) -> Destination:
        """The destination `to_dict` wrote."""
        return cls(data.get("target", "local"), data.get("model_repository", ""), data.get("server_url", ""),
                   ServiceSettings(**(data.get("settings") or {})), float(data.get("rollout_timeout", 600)))


def deploy(
    registry_uri: str, model_name: str, version: int, approved: bool, approval_reason: str, infra_ok: bool,
    infra_reason: str, model_repository: str, run: str, server_url: str = "",
    log: Callable[[str], None] = print, target: str = "local", settings: ServiceSettings = ServiceSettings(),
    rollout_timeout: float = 600, service_file: Path | None = None, monitoring_uri: str = "",
    approval: str = "auto",
) -> DeployResult:
    """Deploy to the `local` or `kserve` target, or record why not. `service_file` receives the
    InferenceService for the version (applied with target `kserve`; for review otherwise). With
    `monitoring_uri` (a monitoring.json or its folder) the version is a canary under watch: it is
    deployed only when that result's canary verdict for it is `promote`. With `approval` "manual" a
    version that passes every gate is recorded `pending_approval` and waits for `loopline models approve`."""
    if target not in TARGETS:
        raise LooplineInputError(f"deploy target must be one of {TARGETS}, got {target!r}")
    if approval not in APPROVALS:
        raise LooplineInputError(f"approval must be one of {APPROVALS}, got {approval!r}")
    registry = Registry(registry_uri)
    service = render(model_name, registry.version(model_name, version).uri, version, settings)
    if service_file is not None:
        inference_service.write(service_file, service, (
            f"{model_name} v{version}: applied by deploy (target kserve)" if target == "kserve" else
            f"{model_name} v{version}: what deploy_target=kserve applies (this run's target: {target})"))
    blocked = ("not approved: " + approval_reason) if not approved else (
        "infra validation failed: " + infra_reason if not infra_ok else _canary_gate(monitoring_uri, version))
    destination = Destination(target, str(model_repository or ""), server_url, settings, rollout_timeout)
    if blocked:
        result = DeployResult(False, blocked)
        registry.record(model_name, SKIPPED, version, run, blocked)
    elif approval == "manual":
        result = DeployResult(False, f"pending approval: v{version} passed every gate ({approval_reason}; "
                                     f"{infra_reason}); `loopline models approve {model_name} {version}` deploys it")
        registry.record(model_name, PENDING_APPROVAL, version, run, result.reason, destination.to_dict())
    else:
        return release(registry, model_name, version, run, f"approved ({approval_reason}); {infra_reason}",
                       destination, log, service)
    write_card(registry, model_name, version)
    log(f"deploy: {'skipped' if blocked else 'waiting:'} v{version}: {result.reason}")
    return result


def release(registry: Registry, model_name: str, version: int, run: str, why: str, destination: Destination,
            log: Callable[[str], None] = print, service: dict | None = None) -> DeployResult:
    """Serve `version` at `destination` and make it production (KServe: only once Ready; local: then place and
    load it); records `deployed` and appends it to the model card. Used by deploy and by `loopline models approve`."""
    target = destination.target
    if target == "kserve":  # promote only once the service is Ready
        try:
            served = serve_version(registry, model_name, version, target, settings=destination.settings,
                                   timeout=destination.rollout_timeout, service=service)
        except RolloutError as err:
            registry.record(model_name, ROLLED_BACK, version, run, str(err))
            raise RolloutError(f"deploy of {model_name} v{version} failed: {err}; production unchanged") from None
        registry.promote(model_name, version, run, f"{why}; {served}")
    else:
        registry.promote(model_name, version, run, why)
        served = serve_version(registry, model_name, version, target, destination.model_repository,
                               destination.server_url)
    reason = f"v{version} is production" + (f"; {served}" if served else "")
    registry.record(model_name, DEPLOYED, version, run, reason)
    write_card(registry, model_name, version)
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
