"""The kserve deploy target against a local FAKE of the Kubernetes API (tests/fakes/kubernetes_api.py;
no cluster can run here). The rendered objects are checked with KServe's own v1beta1 models in the
serving environment.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.client.rest import ApiException

from components.deploy import kubernetes_target
from components.deploy.executor import deploy
from components.deploy.inference_service import ServiceSettings, render
from components.deploy.kubernetes_target import apply_and_wait, merge_patch
from components.errors import RolloutError
from components.lib.registry import PRODUCTION, Registry
from fakes.kubernetes_api import FakeKubernetes, apply_merge_patch
from loopline import cli


@pytest.fixture()
def fake_factory() -> Iterator:
    started: list[FakeKubernetes] = []

    def make(ready_after: int | None) -> FakeKubernetes:
        fake = FakeKubernetes(ready_after)
        threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.server.shutdown()


SETTINGS = ServiceSettings(namespace="ml", min_replicas=1, max_replicas=4, canary_traffic_percent=10,
                           logger_url="http://broker.knative-eventing/default")


@pytest.mark.serving
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
    assert apply_merge_patch(current, merge_patch(current, desired)) == desired


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
