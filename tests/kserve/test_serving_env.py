"""The serving environment (.venv-serving) holds exactly the locked kserve / TensorFlow / kfp versions."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from loopline import paths

pytestmark = pytest.mark.serving

ROOT = paths.ROOT
SERVING_PYTHON = paths.SERVING_PYTHON
LOCK = ROOT / "kserve" / "requirements.lock"


def _locked(name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)$", LOCK.read_text(), re.MULTILINE)
    assert match, f"{name} not pinned in {LOCK}"
    return match.group(1)


@pytest.fixture(scope="module")
def serving_versions() -> dict[str, str]:
    # Import each package (a broken install fails here), then read the installed versions.
    script = (
        "import json, importlib.metadata as md, kserve, tensorflow, kfp, google.protobuf; "
        "print(json.dumps({p: md.version(p) for p in ('kserve', 'tensorflow', 'kfp', 'protobuf')}))"
    )
    assert SERVING_PYTHON.exists(), "run `make install` first: .venv-serving is missing"
    proc = subprocess.run(
        [str(SERVING_PYTHON), "-c", script], capture_output=True, text=True, timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", ["kserve", "tensorflow", "kfp", "protobuf"])
def test_serving_env_matches_its_lock(serving_versions: dict[str, str], package: str) -> None:
    assert serving_versions[package] == _locked(package)


def test_serving_env_is_the_newer_stack_the_pipeline_env_cannot_hold(serving_versions: dict[str, str]) -> None:
    assert serving_versions["kserve"].startswith("0.21.")
    assert serving_versions["tensorflow"].startswith("2.21.")
    assert int(serving_versions["protobuf"].split(".")[0]) >= 6


def test_serving_env_holds_what_runs_in_the_serving_image() -> None:
    """The predictor and the infra-validate step (which runs in the serving image) import there."""
    modules = "loopline_predictor.model, components.infra_validate.executor, components.lib.registry"
    proc = subprocess.run(
        [str(SERVING_PYTHON), "-c", f"import {modules}"], capture_output=True, text=True, timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
