"""Cluster settings on the pipeline's tasks: resources, an optional GPU, caching and retries.

They are compiled into the YAML (kfp.local ignores resources, caching and retries), so they are
compile-time settings. The GPU for training comes from the environment at compile time:
LOOPLINE_TRAIN_ACCELERATOR (e.g. `nvidia.com/gpu`) and LOOPLINE_TRAIN_ACCELERATOR_COUNT (default 1);
the default pipeline root (where a cluster run's artifacts go, e.g. `gs://bucket/root`) from
LOOPLINE_PIPELINE_ROOT (unset: the cluster's default; a run may still set its own); LOOPLINE_CACHING=off
turns caching off for every step (for scheduled runs that read a fixed source URI: see CACHED).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kfp import dsl

from components.errors import LooplineInputError


@dataclass(frozen=True)
class Resources:
    """CPU/memory requests and limits of one task (Kubernetes quantities)."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str


# Sized for the bundled data up to a few million rows; Beam on Dataflow does its own sizing.
HEAVY = {
    "validate": Resources("1", "2", "2Gi", "4Gi"),
    "train": Resources("2", "4", "4Gi", "8Gi"),
    "evaluate": Resources("1", "2", "2Gi", "4Gi"),
    "infra-validate": Resources("1", "2", "2Gi", "3Gi"),
}
# Retried on failure: steps that read from the network and have no side effect, so a repeat is
# harmless. register and deploy change the registry / the cluster and are not retried.
RETRIES = 3
RETRY_BACKOFF = "30s"
# Cached: steps whose outputs follow from their inputs alone. evaluate reads the production model,
# register and deploy change state: never cached. Note that ingest's cache key is the source URI,
# not its content (see the README on scheduled runs).
CACHED = {"ingest": True, "validate": True, "train": True, "infra-validate": True,
          "evaluate": False, "register": False, "deploy": False}
RETRIED = ("ingest", "validate", "evaluate")
PIPELINE_ROOT = os.environ.get("LOOPLINE_PIPELINE_ROOT") or None


def caching_allowed() -> bool:
    """False when LOOPLINE_CACHING=off at compile time (every step then runs every time)."""
    setting = (os.environ.get("LOOPLINE_CACHING") or "on").strip().lower()
    if setting not in ("on", "off"):
        raise LooplineInputError(f"LOOPLINE_CACHING must be 'on' or 'off', got {setting!r}")
    return setting == "on"


def train_accelerator() -> tuple[str, int] | None:
    """The GPU type and count set for the train step at compile time, or None."""
    kind = os.environ.get("LOOPLINE_TRAIN_ACCELERATOR", "").strip()
    if not kind:
        return None
    count = (os.environ.get("LOOPLINE_TRAIN_ACCELERATOR_COUNT") or "1").strip()
    if not count.isdigit() or int(count) < 1:
        raise LooplineInputError(f"LOOPLINE_TRAIN_ACCELERATOR_COUNT must be a whole number >= 1, got {count!r}")
    return kind, int(count)


def configure(task: dsl.PipelineTask, step: str) -> dsl.PipelineTask:
    """Give the task named `step` its display name, resources, caching and retries."""
    task.set_display_name(step).set_caching_options(CACHED[step] and caching_allowed())
    resources = HEAVY.get(step)
    if resources is not None:
        (task.set_cpu_request(resources.cpu_request).set_cpu_limit(resources.cpu_limit)
         .set_memory_request(resources.memory_request).set_memory_limit(resources.memory_limit))
    if step in RETRIED:
        task.set_retry(num_retries=RETRIES, backoff_duration=RETRY_BACKOFF, backoff_factor=2.0)
    accelerator = train_accelerator() if step == "train" else None
    if accelerator is not None:
        task.set_accelerator_type(accelerator[0]).set_accelerator_limit(accelerator[1])
    return task
