"""Compile-time settings are read once, by CompileSettings.from_env, never when a module is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from components._image import Images
from components.errors import LooplineInputError
from pipelines import PIPELINES
from pipelines.settings import Accelerator, CompileSettings

HOSTILE = {"LOOPLINE_CACHING": "maybe", "LOOPLINE_TRAIN_ACCELERATOR": "nvidia.com/gpu",
           "LOOPLINE_TRAIN_ACCELERATOR_COUNT": "two", "LOOPLINE_PIPELINE_ROOT": "gs://hostile/root",
           "LOOPLINE_REGISTRY": "hostile.example/reg", "LOOPLINE_TAG": "hostile",
           "LOOPLINE_PIPELINE_IMAGE": "hostile/pipeline:1", "LOOPLINE_SERVING_IMAGE": "hostile/serving:1"}
# Imports every module of the three packages and builds every pipeline with default settings, with
# os.environ replaced by a mapping that records each LOOPLINE_* key that code of these packages looks
# up (the first caller outside os and collections.abc; libraries copying the whole environment do not
# count); prints the keys read.
PROBE = """
import json, os, pkgutil, importlib, sys

OURS = ("/components/", "/loopline/", "/pipelines/")

class Recording(os._Environ):
    read = set()
    def __getitem__(self, key):
        if str(key).startswith("LOOPLINE_"):
            frame = sys._getframe(1)
            while frame.f_code.co_filename.endswith(("os.py", "_collections_abc.py", "os>", "_collections_abc>")):
                frame = frame.f_back
            name = frame.f_code.co_filename
            if any(part in name for part in OURS) and "site-packages" not in name:
                Recording.read.add(key)
        return super().__getitem__(key)

recording = Recording(os.environ._data, os.environ.encodekey, os.environ.decodekey, os.environ.encodevalue,
                      os.environ.decodevalue)
os.environ = recording
import components, loopline, pipelines
names = []
for package in (components, loopline, pipelines):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
from pipelines.settings import CompileSettings
built = [pipelines.create(name, CompileSettings()).name for name in pipelines.PIPELINES]
read, Recording.read = sorted(Recording.read), set()
from components._image import Images
Images.from_env(os.environ)  # the control: our code reading settings is seen
print(json.dumps({"read": read, "modules": names, "built": built, "control": sorted(Recording.read)}))
"""


def test_importing_every_module_and_building_every_pipeline_reads_no_setting() -> None:
    """With every LOOPLINE_* variable set to a bad value, nothing raises and nothing reads them; the same
    recording does see Images.from_env read its four (so the check can fail)."""
    proc = subprocess.run([sys.executable, "-c", PROBE], env={**os.environ, **HOSTILE}, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["read"] == []
    assert {"pipelines.training", "pipelines.data_validation", "components.catalog", "loopline.cli"} <= set(
        found["modules"])
    assert found["built"] == ["loopline-data-validation", "loopline-training", "loopline-monitoring"]
    assert found["control"] == ["LOOPLINE_PIPELINE_IMAGE", "LOOPLINE_REGISTRY", "LOOPLINE_SERVING_IMAGE",
                                "LOOPLINE_TAG"]


def test_from_env_reads_every_setting() -> None:
    settings = CompileSettings.from_env({"LOOPLINE_REGISTRY": "r.example/x", "LOOPLINE_TAG": "7",
                                         "LOOPLINE_PIPELINE_ROOT": "gs://b/root", "LOOPLINE_CACHING": "OFF",
                                         "LOOPLINE_TRAIN_ACCELERATOR": "nvidia.com/gpu",
                                         "LOOPLINE_TRAIN_ACCELERATOR_COUNT": "2"})
    assert settings == CompileSettings(Images("r.example/x/loopline-pipeline:7", "r.example/x/loopline-serving:7"),
                                       "gs://b/root", False, Accelerator("nvidia.com/gpu", 2))
    assert CompileSettings.from_env({}) == CompileSettings()


@pytest.mark.parametrize(("environ", "message"), [
    ({"LOOPLINE_CACHING": "maybe"}, "LOOPLINE_CACHING must be 'on' or 'off', got 'maybe'"),
    ({"LOOPLINE_TRAIN_ACCELERATOR": "nvidia.com/gpu", "LOOPLINE_TRAIN_ACCELERATOR_COUNT": "0"},
     "LOOPLINE_TRAIN_ACCELERATOR_COUNT must be a whole number >= 1, got '0'"),
])
def test_from_env_refuses_a_bad_value_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(LooplineInputError, match=message):
        CompileSettings.from_env(environ)


def test_the_catalogue_names_every_pipeline_module() -> None:
    assert PIPELINES == ("data-validation", "training", "monitoring")
