"""The committed compiled YAML is what a fresh compile gives, and its components run with no pip install."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components._image import PIPELINE_IMAGE
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
    for executor in executors.values():
        container = executor["container"]
        assert container["image"] == PIPELINE_IMAGE
        script = " ".join(container["command"] + container.get("args", []))
        assert "pip install" not in script
