"""The committed compiled YAML is what a fresh compile gives, and its components run with no pip install."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components._image import PIPELINE_IMAGE, SERVING_IMAGE
from pipelines.compiling import COMPILED_DIR, compile_all, compiled_path
from pipelines.registry import PIPELINES


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compiled")
    compile_all(out)
    return out


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
        assert container["image"] == (SERVING_IMAGE if "infra-validate" in name else PIPELINE_IMAGE), name
        script = " ".join(container["command"] + container.get("args", []))
        assert "pip install" not in script
