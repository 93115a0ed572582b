"""The component suite as KFP components, each bound to the image it runs in.

The contracts (`<component>/component.py`) are plain functions; binding them to an image is a
compile-time choice, made here and nowhere else, so importing a contract reads no setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from components._image import Images
from components.deploy.component import deploy
from components.evaluate.component import evaluate
from components.infra_validate.component import infra_validate
from components.ingest.component import ingest
from components.monitor.component import monitor
from components.register.component import register
from components.retrain.component import retrain
from components.train.component import train
from components.validate.component import validate

# Every contract and which image runs it: infra-validate starts the predictor, so it runs in the serving image.
CONTRACTS: dict[str, tuple[Callable, str]] = {
    "ingest": (ingest, "pipeline"),
    "validate": (validate, "pipeline"),
    "train": (train, "pipeline"),
    "evaluate": (evaluate, "pipeline"),
    "infra_validate": (infra_validate, "serving"),
    "register": (register, "pipeline"),
    "deploy": (deploy, "pipeline"),
    "monitor": (monitor, "pipeline"),
    "retrain": (retrain, "pipeline"),
}


@dataclass(frozen=True)
class Components:
    """The KFP components of one compile, by contract name."""

    ingest: Any
    validate: Any
    train: Any
    evaluate: Any
    infra_validate: Any
    register: Any
    deploy: Any
    monitor: Any
    retrain: Any


def build(images: Images) -> Components:
    """Each contract as a KFP component in its image, with no pip install at run time."""
    from kfp import dsl

    return Components(**{name: dsl.component(func, base_image=getattr(images, image), install_kfp_package=False)
                         for name, (func, image) in CONTRACTS.items()})
