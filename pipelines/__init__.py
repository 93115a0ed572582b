"""The pipelines loopline ships, by the name the `loopline` command and `make compile` use.

Each pipeline module has `create_pipeline(settings)`; this catalogue imports it only when asked
(kfp and the components are heavy imports the `loopline` command's other verbs do not need).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from pipelines.settings import CompileSettings

MODULES = {"data-validation": "pipelines.data_validation", "training": "pipelines.training",
           "monitoring": "pipelines.monitoring"}
PIPELINES = tuple(MODULES)


def create(name: str, settings: CompileSettings) -> Callable:
    """The pipeline `name` built for these compile-time settings."""
    return importlib.import_module(MODULES[name]).create_pipeline(settings)
