"""Cluster settings on the pipeline's tasks: resources, an optional GPU, caching and retries.

Resources, caching and retries are fixed here; the compile-time choices (caching off, a GPU for
train) come in a CompileSettings (pipelines/settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kfp import dsl

from pipelines.settings import CompileSettings


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
    "monitor": Resources("1", "2", "2Gi", "4Gi"),
}
# Retried on failure: steps that read from the network and have no side effect, so a repeat is
# harmless. register and deploy change the registry / the cluster and are not retried.
RETRIES = 3
RETRY_BACKOFF = "30s"
# Cached: steps whose outputs follow from their inputs alone. evaluate reads the production model,
# register and deploy change state: never cached. Note that ingest's cache key is the source URI,
# not its content (see the README on scheduled runs).
CACHED = {"ingest": True, "validate": True, "train": True, "infra-validate": True,
          "evaluate": False, "register": False, "deploy": False, "monitor": False, "retrain": False}
RETRIED = ("ingest", "validate", "evaluate", "monitor")


def configure(task: dsl.PipelineTask, step: str, settings: CompileSettings) -> dsl.PipelineTask:
    """Give the task named `step` its display name, resources, caching, retries and (train) GPU."""
    task.set_display_name(step).set_caching_options(CACHED[step] and settings.caching)
    resources = HEAVY.get(step)
    if resources is not None:
        (task.set_cpu_request(resources.cpu_request).set_cpu_limit(resources.cpu_limit)
         .set_memory_request(resources.memory_request).set_memory_limit(resources.memory_limit))
    if step in RETRIED:
        task.set_retry(num_retries=RETRIES, backoff_duration=RETRY_BACKOFF, backoff_factor=2.0)
    accelerator = settings.train_accelerator if step == "train" else None
    if accelerator is not None:
        task.set_accelerator_type(accelerator.kind).set_accelerator_limit(accelerator.count)
    return task
