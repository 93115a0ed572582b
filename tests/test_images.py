"""The two images, checked as far as this machine allows (no container engine runs here).

Each Dockerfile installs from its environment's lock file on the same Python as the local envs,
runs as a non-root user, is labelled with the version; every place that names an image names
the one components/_image.py defines; `make images` says plainly when no engine answers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from components._image import Images
from components.version import VERSION
from loopline import paths

ROOT = paths.ROOT
# Dockerfile -> the lock file of the local environment it must match, and that environment.
IMAGES = {
    "components/Dockerfile": ("requirements/pipeline.lock", ROOT / ".venv"),
    "kserve/Dockerfile": ("kserve/requirements.lock", ROOT / ".venv-serving"),
}


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / dockerfile).read_text())
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("dockerfile", sorted(IMAGES))
def test_dockerfile_installs_from_its_lock_file(dockerfile: str) -> None:
    lock, _ = IMAGES[dockerfile]
    steps = _instructions(dockerfile)
    assert ("COPY", f"{lock} {lock}") in steps
    syncs = [args for op, args in steps if op == "RUN" and "pip sync" in args]
    assert syncs == [f"uv pip sync --system --no-cache --compile-bytecode {lock}"]
    installs = [args for op, args in steps if op == "RUN" and "pip install" in args and "uv==" not in args]
    assert installs and all("--no-deps" in args for args in installs), "the project goes in without new deps"


@pytest.mark.parametrize("dockerfile", sorted(IMAGES))
def test_python_versions_agree(dockerfile: str) -> None:
    """The image's Python = the local env's Python (major.minor.patch) = the project's and the lock's 3.11."""
    lock, venv = IMAGES[dockerfile]
    base = next(args for op, args in _instructions(dockerfile) if op == "FROM")
    image_python = re.fullmatch(r"python:(\d+\.\d+\.\d+)-slim-bookworm", base).group(1)
    local = subprocess.run([str(venv / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert image_python == local
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == "==3.11.*"
    assert image_python.startswith("3.11.") and "--python-version 3.11" in (ROOT / lock).read_text()


@pytest.mark.parametrize("dockerfile", sorted(IMAGES))
def test_runs_as_non_root_and_is_labelled_with_the_version(dockerfile: str) -> None:
    steps = _instructions(dockerfile)
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] not in {"0", "root"}
    labels = " ".join(args for op, args in steps if op == "LABEL")
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    assert ("ARG", "VERSION") in steps


def test_one_version_and_one_set_of_image_names() -> None:
    assert Images().pipeline == f"ghcr.io/loopline/loopline-pipeline:{VERSION}"
    assert Images().serving == f"ghcr.io/loopline/loopline-serving:{VERSION}"
    assert tomllib.loads((ROOT / "kserve/pyproject.toml").read_text())["project"]["version"] == VERSION
    runtime = yaml.safe_load((ROOT / "kserve/templates/serving-runtime.yaml").read_text())
    assert [c["image"] for c in runtime["spec"]["containers"]] == [Images().serving]
    printed = subprocess.run([sys.executable, "-m", "components._image"], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout.split()
    assert printed == [f"VERSION={VERSION}", f"PIPELINE_IMAGE={Images().pipeline}", f"SERVING_IMAGE={Images().serving}"]


def test_make_images_says_when_no_engine_answers() -> None:
    """DOCKER_HOST points at nothing, so this holds on a machine with a docker daemon too."""
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    proc = subprocess.run(["make", "-s", "images"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "make images: no container engine here" in proc.stderr
    assert "docker build" not in proc.stdout + proc.stderr
