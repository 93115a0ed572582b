"""Create or patch an InferenceService through the Kubernetes API, wait for Ready, roll back on failure.

The calls need exactly get, create, patch and delete on inferenceservices (manifests/base/rbac.yaml):
a merge patch rather than a PUT, which would need `update`, a verb the issue's Role does not grant."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from components.errors import KubernetesError

GROUP, VERSION, PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"


@dataclass(frozen=True)
class Rollout:
    """Whether the service became Ready, and what happened."""

    ready: bool
    reason: str


@contextlib.contextmanager
def api_errors(what: str) -> Iterator[None]:
    """Kubernetes client failures inside the block (a refused request, an unreachable API server) as
    KubernetesError naming `what` was being done."""
    try:
        yield
    except ApiException as err:
        raise KubernetesError(f"{what}: the Kubernetes API answered {err.status} {err.reason}: "
                              f"{' '.join(str(err.body or '').split())[:300]}") from err
    except HTTPError as err:
        raise KubernetesError(f"{what}: cannot reach the Kubernetes API: {err}") from err


def custom_objects_api() -> client.CustomObjectsApi:
    """In-cluster credentials when running in a pod (the pipeline's service account), else ~/.kube/config."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config()
        except (config.ConfigException, OSError) as err:
            raise KubernetesError(f"no Kubernetes credentials: not in a pod, and no usable kubeconfig ({err})") from err
    return client.CustomObjectsApi()


def readiness(obj: dict[str, Any]) -> tuple[bool, str]:
    """Ready when the Ready condition is True for the current generation; else why not."""
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    if generation is not None and status.get("observedGeneration", generation) < generation:
        return False, "the controller has not seen this generation yet"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return True, "Ready"
            why = f"{condition.get('reason', '')} {condition.get('message', '')}"
            return False, f"Ready={condition.get('status')}: {why}".strip()
    return False, "no Ready condition yet"


def _get(api: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except ApiException as err:
        if err.status == 404:
            return None
        raise


def merge_patch(current: Any, desired: Any) -> Any:
    """The RFC 7386 merge patch that turns `current` into `desired` (null removes a key; lists go whole)."""
    if not (isinstance(current, dict) and isinstance(desired, dict)):
        return desired
    patch: dict[str, Any] = {key: None for key in current if key not in desired}
    for key, value in desired.items():
        if key not in current or current[key] != value:
            patch[key] = merge_patch(current.get(key), value)
    return patch


def _replace(api: client.CustomObjectsApi, body: dict[str, Any], current: dict[str, Any]) -> None:
    """Make the spec exactly `body`'s and set its labels/annotations, as one merge patch (RBAC verb
    `patch`); it carries the resourceVersion read, so a concurrent change fails it (409) as a PUT would."""
    metadata = body["metadata"]
    patch = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"],
                          "labels": metadata.get("labels", {}), "annotations": metadata.get("annotations", {})},
             "spec": merge_patch(current.get("spec", {}), body["spec"])}
    api.patch_namespaced_custom_object(GROUP, VERSION, metadata["namespace"], PLURAL, metadata["name"], patch)


def _restorable(previous: dict[str, Any]) -> dict[str, Any]:
    """The previous object as it was specified (no status, no server-set metadata)."""
    metadata = {k: previous["metadata"][k] for k in ("name", "namespace", "labels", "annotations")
                if k in previous["metadata"]}
    return {"apiVersion": previous["apiVersion"], "kind": previous["kind"], "metadata": metadata,
            "spec": previous["spec"]}


def apply_and_wait(api: client.CustomObjectsApi, service: dict[str, Any], timeout: float, poll: float = 2.0,
                   sleep: Callable[[float], None] = time.sleep) -> Rollout:
    """Create or patch `service`, wait until Ready; on timeout restore the previous object (or delete
    a service that did not exist before), so traffic goes back to the previous revision."""
    namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
    with api_errors(f"rolling out InferenceService {namespace}/{name}"):
        return _apply_and_wait(api, service, namespace, name, timeout, poll, sleep)


def _apply_and_wait(api: client.CustomObjectsApi, service: dict[str, Any], namespace: str, name: str, timeout: float,
                    poll: float, sleep: Callable[[float], None]) -> Rollout:
    previous = _get(api, namespace, name)
    if previous is None:
        api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, service)
    else:
        _replace(api, service, previous)
    deadline, why = time.monotonic() + timeout, "not checked"
    while time.monotonic() < deadline:
        ready, why = readiness(_get(api, namespace, name) or {})
        if ready:
            return Rollout(True, f"InferenceService {namespace}/{name} is Ready")
        sleep(poll)
    if previous is None:
        api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        undo = "deleted the new InferenceService"
    else:
        _replace(api, _restorable(previous), _get(api, namespace, name) or previous)
        undo = "restored the previous InferenceService spec"
    return Rollout(False, f"InferenceService {namespace}/{name} not Ready within {timeout:.0f} s ({why}); {undo}")
