"""The kserve deploy target against a local FAKE of the Kubernetes API (no cluster can run here).

The fake is an HTTP server that stores InferenceServices and reports them Ready after a few reads
(or never); it records every request. The rendered objects are checked with KServe's own v1beta1
models in the serving environment.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes import client
from kubernetes.client.rest import ApiException

from components.deploy import kubernetes_target
from components.deploy.executor import deploy
from components.errors import RolloutError
from components.deploy.inference_service import ServiceSettings, render
from components.deploy.kubernetes_target import apply_and_wait, merge_patch
from components.lib.registry import PRODUCTION, Registry
from loopline import cli

PREFIX = "/apis/serving.kserve.io/v1beta1/namespaces/"


def _apply_merge_patch(target: object, patch: object) -> object:
    """RFC 7386, as the API server applies application/merge-patch+json."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _apply_merge_patch(result.get(key), value)
    return result


class FakeKubernetes:
    """InferenceServices in memory; Ready after `ready_after` reads of a new generation (None: never)."""

    def __init__(self, ready_after: int | None) -> None:
        self.ready_after, self.objects, self.requests, self.reads = ready_after, {}, [], 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, self.path, body))
                status, answer = fake.handle(self.command, self.path, body)
                self._reply(status, answer)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        parts = path[len(PREFIX):].split("/")  # ns / inferenceservices [/ name]
        key = (parts[0], parts[2] if len(parts) > 2 else body["metadata"]["name"])
        current = self.objects.get(key)
        if method == "GET":
            if current is None:
                return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
            self.reads += 1
            if self.ready_after is not None and self.reads >= self.ready_after:
                current["status"] = {"observedGeneration": current["metadata"]["generation"],
                                     "conditions": [{"type": "Ready", "status": "True"}]}
            return 200, current
        if method == "DELETE":
            self.objects.pop(key, None)
            return 200, {"kind": "Status", "status": "Success"}
        if method == "PATCH":  # a JSON merge patch (RFC 7386) with the resourceVersion as precondition
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
            body = _apply_merge_patch({k: v for k, v in current.items() if k != "status"}, body)
        generation = current["metadata"]["generation"] + 1 if current else 1
        stored = json.loads(json.dumps(body))
        stored["metadata"].update(generation=generation, resourceVersion=str(generation))
        stored["status"] = {"conditions": [{"type": "Ready", "status": "False", "reason": "RevisionMissing"}]}
        self.objects[key], self.reads = stored, 0
        return (201 if method == "POST" else 200), stored

    def api(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(client.ApiClient(client.Configuration(host=self.url)))


@pytest.fixture()
def fake_factory() -> Iterator:
    started: list[FakeKubernetes] = []

    def make(ready_after: int | None) -> FakeKubernetes:
        fake = FakeKubernetes(ready_after)
        threading.Thread(target=fake.server.serve_forever, daemon=True).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.server.shutdown()


SETTINGS = ServiceSettings(namespace="ml", min_replicas=1, max_replicas=4, canary_traffic_percent=10,
                           logger_url="http://broker.knative-eventing/default")


def test_rendered_service_is_what_kserves_own_models_accept(kserve_roundtrip) -> None:
    objects = [render("penguins", "gs://bucket/registry/penguins/versions/3", 3, SETTINGS),
               render("penguins", "/mnt/registry/penguins/versions/1", 1, ServiceSettings())]
    assert kserve_roundtrip(objects, "V1beta1InferenceService") == [[], []]  # every key is one KServe knows
    predictor = objects[0]["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == "gs://bucket/registry/penguins/versions/3"
    assert predictor["canaryTrafficPercent"] == 10 and predictor["maxReplicas"] == 4
    assert "canaryTrafficPercent" not in objects[1]["spec"]["predictor"]


def test_render_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="replicas"):
        render("penguins", "gs://b/v/1", 1, ServiceSettings(min_replicas=3, max_replicas=1))
    with pytest.raises(ValueError, match="canary_traffic_percent"):
        render("penguins", "gs://b/v/1", 1, ServiceSettings(canary_traffic_percent=150))


def test_create_then_replace_and_wait_for_ready(fake_factory) -> None:
    fake = fake_factory(ready_after=2)
    first = apply_and_wait(fake.api(), render("penguins", "gs://b/v/1", 1, SETTINGS), timeout=10, poll=0.01)
    second = apply_and_wait(fake.api(), render("penguins", "gs://b/v/2", 2, SETTINGS), timeout=10, poll=0.01)
    assert first.ready and second.ready
    methods = [m for m, _, _ in fake.requests]
    assert methods.count("POST") == 1 and methods.count("PATCH") == 1
    stored = fake.objects[("ml", "penguins")]
    assert stored["spec"]["predictor"]["model"]["storageUri"] == "gs://b/v/2"


def test_timeout_restores_the_previous_service(fake_factory) -> None:
    fake = fake_factory(ready_after=1)
    assert apply_and_wait(fake.api(), render("penguins", "gs://b/v/1", 1, SETTINGS), timeout=10, poll=0.01).ready
    fake.ready_after = None  # the new revision never becomes Ready
    result = apply_and_wait(fake.api(), render("penguins", "gs://b/v/2", 2, SETTINGS), timeout=0.3, poll=0.01)
    assert not result.ready and "restored the previous" in result.reason
    assert fake.objects[("ml", "penguins")]["spec"]["predictor"]["model"]["storageUri"] == "gs://b/v/1"


def test_timeout_of_a_first_rollout_deletes_it(fake_factory) -> None:
    fake = fake_factory(ready_after=None)
    result = apply_and_wait(fake.api(), render("penguins", "gs://b/v/1", 1, SETTINGS), timeout=0.3, poll=0.01)
    assert not result.ready and "deleted the new" in result.reason
    assert fake.objects == {} and fake.requests[-1][0] == "DELETE"


def _registry_with_two(tmp_path: Path, penguins_bundle: Path) -> tuple[Registry, str]:
    uri = str(tmp_path / "registry")
    registry = Registry(uri)
    for run in ("r1", "r2"):
        registry.register("penguins", penguins_bundle, run, {})
    return registry, uri


def test_kserve_target_promotes_only_when_ready(fake_factory, monkeypatch, tmp_path: Path,
                                                penguins_bundle: Path) -> None:
    registry, uri = _registry_with_two(tmp_path, penguins_bundle)
    fake = fake_factory(ready_after=1)
    monkeypatch.setattr(kubernetes_target, "custom_objects_api", fake.api)
    done = deploy(uri, "penguins", 1, True, "approved", True, "ok", "", "r1", log=lambda _: None,
                  target="kserve", settings=SETTINGS, rollout_timeout=10)
    assert done.deployed and registry.alias("penguins", PRODUCTION).number == 1
    assert fake.objects[("ml", "penguins")]["spec"]["predictor"]["model"]["storageUri"] == \
        registry.version("penguins", 1).uri
    fake.ready_after = None
    with pytest.raises(RolloutError, match="production unchanged"):
        deploy(uri, "penguins", 2, True, "approved", True, "ok", "", "r2", log=lambda _: None,
               target="kserve", settings=SETTINGS, rollout_timeout=0.3)
    assert registry.alias("penguins", PRODUCTION).number == 1
    assert registry.events("penguins")[-1].event == "rolled_back"


def test_a_patch_makes_the_spec_exactly_the_new_one(fake_factory) -> None:
    """A canary set by one rollout is gone after a rollout without one (merge patch nulls removed keys)."""
    fake = fake_factory(ready_after=1)
    canary = ServiceSettings(namespace="ml", canary_traffic_percent=10)
    assert apply_and_wait(fake.api(), render("penguins", "gs://b/v/1", 1, canary), timeout=10, poll=0.01).ready
    assert fake.objects[("ml", "penguins")]["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert apply_and_wait(fake.api(), render("penguins", "gs://b/v/2", 2, SETTINGS), timeout=10, poll=0.01).ready
    assert fake.objects[("ml", "penguins")]["spec"] == render("penguins", "gs://b/v/2", 2, SETTINGS)["spec"]


def test_a_concurrent_change_fails_the_patch(fake_factory) -> None:
    fake = fake_factory(ready_after=1)
    service = render("penguins", "gs://b/v/1", 1, SETTINGS)
    assert apply_and_wait(fake.api(), service, timeout=10, poll=0.01).ready
    stale = {**fake.objects[("ml", "penguins")], "metadata": {**service["metadata"], "resourceVersion": "0"}}
    with pytest.raises(ApiException) as caught:
        kubernetes_target._replace(fake.api(), render("penguins", "gs://b/v/2", 2, SETTINGS), stale)
    assert caught.value.status == 409


JSON = st.recursive(st.integers() | st.text(max_size=3) | st.booleans(),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=2), children,
                                                                                     max_size=3), max_leaves=12)
OBJECTS = st.dictionaries(st.text(max_size=2), JSON, max_size=4)


@given(OBJECTS, OBJECTS)
def test_merge_patch_turns_current_into_desired(current: dict, desired: dict) -> None:
    assert _apply_merge_patch(current, merge_patch(current, desired)) == desired


def test_models_rollback_to_kserve_serves_the_previous_version_first(fake_factory, monkeypatch, tmp_path: Path,
                                                                     penguins_bundle: Path, capsys) -> None:
    """`loopline models rollback --kserve-namespace`: the InferenceService goes back to the previous
    version's storageUri, then the alias moves; a rollout that never gets Ready moves nothing."""
    registry, uri = _registry_with_two(tmp_path, penguins_bundle)
    fake = fake_factory(ready_after=1)
    monkeypatch.setattr(kubernetes_target, "custom_objects_api", fake.api)
    for version in (1, 2):
        assert deploy(uri, "penguins", version, True, "approved", True, "ok", "", f"r{version}", log=lambda _: None,
                      target="kserve", settings=SETTINGS, rollout_timeout=10).deployed
    rollback = ["models", "rollback", "penguins", "--registry", uri, "--reason", "v2 misbehaves",
                "--kserve-namespace", "ml", "--rollout-timeout", "10"]
    assert cli.main(rollback) == 0
    assert fake.objects[("ml", "penguins")]["spec"]["predictor"]["model"]["storageUri"] == \
        registry.version("penguins", 1).uri
    assert registry.alias("penguins", PRODUCTION).number == 1
    assert "loopline: served: InferenceService ml/penguins is Ready" in capsys.readouterr().out

    assert cli.main(["models", "promote", "penguins", "2", "--registry", uri, "--reason", "fixed",
                     "--kserve-namespace", "ml", "--rollout-timeout", "10"]) == 0
    fake.ready_after = None
    assert cli.main([*rollback[:-1], "0.2"]) == 2
    assert "not Ready within" in capsys.readouterr().err
    assert registry.alias("penguins", PRODUCTION).number == 2
    assert fake.objects[("ml", "penguins")]["spec"]["predictor"]["model"]["storageUri"] == \
        registry.version("penguins", 2).uri
