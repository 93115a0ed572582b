"""Compile-time settings: read once, where compiling starts, and passed to the pipeline factories.

They are compiled into the YAML (kfp.local ignores resources, caching and retries):
- images: LOOPLINE_REGISTRY / LOOPLINE_TAG / LOOPLINE_PIPELINE_IMAGE / LOOPLINE_SERVING_IMAGE
  (components/_image.py);
- the default pipeline root (where a cluster run's artifacts go, e.g. `gs://bucket/root`):
  LOOPLINE_PIPELINE_ROOT (unset: the cluster's default; a run may still set its own);
- LOOPLINE_CACHING=off turns caching off for every step (for scheduled runs that read a fixed
  source URI: see task_settings.CACHED);
- a GPU for training: LOOPLINE_TRAIN_ACCELERATOR (e.g. `nvidia.com/gpu`) and
  LOOPLINE_TRAIN_ACCELERATOR_COUNT (default 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from components._image import Images
from components.errors import LooplineInputError


@dataclass(frozen=True)
class Accelerator:
    """A GPU type and how many of them one task gets."""

    kind: str
    count: int = 1


@dataclass(frozen=True)
class CompileSettings:
    """Everything a compiled pipeline depends on besides its code; the defaults are a plain compile."""

    images: Images = field(default_factory=Images)
    pipeline_root: str | None = None
    caching: bool = True
    train_accelerator: Accelerator | None = None

    def environment(self) -> dict[str, object]:
        """What a model card records of the compile: the images and the lock files' hashes (read now)."""
        from components.lib.provenance import lock_hashes

        return {"images": {"pipeline": self.images.pipeline, "serving": self.images.serving},
                "lock_hashes": lock_hashes()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CompileSettings:
        """The settings the environment gives; a malformed value is a LooplineInputError naming it."""
        return cls(images=Images.from_env(environ), pipeline_root=environ.get("LOOPLINE_PIPELINE_ROOT") or None,
                   caching=_caching(environ), train_accelerator=_accelerator(environ))


def _caching(environ: Mapping[str, str]) -> bool:
    setting = (environ.get("LOOPLINE_CACHING") or "on").strip().lower()
    if setting not in ("on", "off"):
        raise LooplineInputError(f"LOOPLINE_CACHING must be 'on' or 'off', got {setting!r}")
    return setting == "on"


def _accelerator(environ: Mapping[str, str]) -> Accelerator | None:
    kind = environ.get("LOOPLINE_TRAIN_ACCELERATOR", "").strip()
    if not kind:
        return None
    count = (environ.get("LOOPLINE_TRAIN_ACCELERATOR_COUNT") or "1").strip()
    if not count.isdigit() or int(count) < 1:
        raise LooplineInputError(f"LOOPLINE_TRAIN_ACCELERATOR_COUNT must be a whole number >= 1, got {count!r}")
    return Accelerator(kind, int(count))
