"""The committed compiled YAML is what a fresh compile gives, and its components run with no pip install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components._image import Images
from pipelines import PIPELINES
from pipelines.compiling import COMPILED_DIR, compile_all, compiled_names, compiled_path
from pipelines.settings import CompileSettings


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compiled")
    compile_all(CompileSettings(), out)
    return out


def test_exactly_the_registered_pipelines_are_compiled(fresh: Path) -> None:
    assert compiled_names() == compiled_names(fresh) == sorted(PIPELINES)


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_committed_yaml_is_fresh(name: str, fresh: Path) -> None:
    committed = compiled_path(name, COMPILED_DIR)
    assert committed.exists(), f"{committed} missing: run `make compile` and commit it"
    assert committed.read_text() == compiled_path(name, fresh).read_text(), (
        f"{committed} is stale: run `make compile` and commit it"
    )


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_executors_use_the_pipeline_image_without_runtime_installs(name: str, fresh: Path) -> None:
    spec = yaml.safe_load(compiled_path(name, fresh).read_text())
    executors = spec["deploymentSpec"]["executors"]
    assert executors
    for name, executor in executors.items():
        container = executor["container"]
        # infra-validate runs the predictor, so it runs in the serving image; every other step in the pipeline's.
        assert container["image"] == (Images().serving if "infra-validate" in name else Images().pipeline), name
        script = " ".join(container["command"] + container.get("args", []))
        assert "pip install" not in script


def test_evaluate_and_infra_validate_wait_only_for_their_inputs() -> None:
    # Independent on a cluster: Argo starts both when train ends (kfp.local runs tasks one at a time).
    tasks = yaml.safe_load(compiled_path("training", COMPILED_DIR).read_text())["root"]["dag"]["tasks"]
    assert set(tasks["evaluate"]["dependentTasks"]) == set(tasks["infra-validate"]["dependentTasks"]) == {
        "ingest", "train"}
    assert "infra-validate" not in tasks["register"]["dependentTasks"]


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_compiled_yaml_loads_with_kfp_and_parses_strictly_as_a_pipeline_spec(name: str) -> None:
    from google.protobuf import json_format
    from kfp import components
    from kfp.pipeline_spec import pipeline_spec_pb2

    path = compiled_path(name, COMPILED_DIR)
    loaded = components.load_component_from_file(str(path))
    assert loaded.name == f"loopline-{name}"
    documents = list(yaml.safe_load_all(path.read_text()))
    assert len(documents) == 1, "no platform-specific section expected"
    spec = json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    assert spec.pipeline_info.name == f"loopline-{name}" and spec.root.dag.tasks


def _tasks_and_executors(path: Path) -> tuple[dict, dict]:
    spec = yaml.safe_load(path.read_text())
    return spec["root"]["dag"]["tasks"], spec["deploymentSpec"]["executors"]


@pytest.mark.parametrize(("name", "steps"), [
    ("training", {"ingest", "validate", "train", "evaluate", "infra-validate", "register", "deploy"}),
    ("monitoring", {"monitor", "retrain"}),
])
def test_cluster_settings_on_the_tasks(name: str, steps: set[str]) -> None:
    """Heavy steps have requests and limits; only side-effect-free reads are cached or retried."""
    from pipelines.task_settings import CACHED, HEAVY, RETRIED

    tasks, executors = _tasks_and_executors(compiled_path(name, COMPILED_DIR))
    assert {t["taskInfo"]["name"] for t in tasks.values()} == steps
    for task in tasks.values():
        step = task["taskInfo"]["name"]
        assert task.get("cachingOptions", {}).get("enableCache", False) is CACHED[step], step
        assert ("retryPolicy" in task) is (step in RETRIED), step
        resources = executors[task["componentRef"]["name"].replace("comp-", "exec-")]["container"].get("resources")
        if step in HEAVY:
            assert resources["resourceCpuLimit"] == HEAVY[step].cpu_limit, step
            assert resources["resourceMemoryRequest"] == HEAVY[step].memory_request, step
            assert "accelerator" not in resources, "no GPU unless asked for at compile time"
        else:
            assert resources is None, step
    assert not CACHED["deploy"] and not CACHED["evaluate"] and CACHED["ingest"] and CACHED["validate"]
    assert not CACHED["monitor"] and not CACHED["retrain"], "monitoring reads a log that grows: never cached"


def _compile_with(out_dir: Path, settings: dict[str, str]) -> subprocess.CompletedProcess:
    """`loopline compile` in a new process (the settings are read when the components are imported)."""
    return subprocess.run([sys.executable, "-m", "loopline.cli", "compile", "--out-dir", str(out_dir)],
                          env={**os.environ, **settings}, capture_output=True, text=True, timeout=300)


def test_compile_time_images_gpu_and_gs_pipeline_root(tmp_path: Path) -> None:
    """`make compile` settings reach the YAML: registry/tag, a GPU for train, a gs:// pipeline root."""
    env = {"LOOPLINE_REGISTRY": "europe-docker.pkg.dev/acme/ml", "LOOPLINE_TAG": "2026.11",
           "LOOPLINE_TRAIN_ACCELERATOR": "nvidia.com/gpu", "LOOPLINE_TRAIN_ACCELERATOR_COUNT": "2",
           "LOOPLINE_PIPELINE_ROOT": "gs://acme-pipelines/root"}
    proc = _compile_with(tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    spec = yaml.safe_load(compiled_path("training", tmp_path).read_text())
    assert spec["defaultPipelineRoot"] == "gs://acme-pipelines/root"
    images = {name: e["container"]["image"] for name, e in spec["deploymentSpec"]["executors"].items()}
    assert images["exec-train"] == "europe-docker.pkg.dev/acme/ml/loopline-pipeline:2026.11"
    assert images["exec-infra-validate"] == "europe-docker.pkg.dev/acme/ml/loopline-serving:2026.11"
    accelerator = spec["deploymentSpec"]["executors"]["exec-train"]["container"]["resources"]["accelerator"]
    assert accelerator["resourceType"] == "nvidia.com/gpu" and accelerator["resourceCount"] == "2"
    assert all("accelerator" not in e["container"].get("resources", {})
               for name, e in spec["deploymentSpec"]["executors"].items() if name != "exec-train")


def test_a_bad_gpu_count_is_refused_naming_the_setting(tmp_path: Path) -> None:
    env = {"LOOPLINE_TRAIN_ACCELERATOR": "nvidia.com/gpu", "LOOPLINE_TRAIN_ACCELERATOR_COUNT": "two"}
    proc = _compile_with(tmp_path, env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "loopline: error: LOOPLINE_TRAIN_ACCELERATOR_COUNT must be a whole number >= 1, got 'two'")


def test_caching_off_at_compile_time_reaches_every_task(tmp_path: Path) -> None:
    """For schedules on a fixed source URI: ingest's cache key is the URI, not the data behind it."""
    env = {"LOOPLINE_CACHING": "off"}
    proc = _compile_with(tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    tasks, _ = _tasks_and_executors(compiled_path("training", tmp_path))
    assert len(tasks) == 7 and not any(t.get("cachingOptions", {}).get("enableCache") for t in tasks.values())
