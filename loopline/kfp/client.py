"""Kubeflow Pipelines through kfp.Client: connect, upload, submit, wait, schedule, list runs.

`Cluster` holds a connected kfp.Client and makes every call through it: names resolved to ids
(a namespace's own pipelines before shared ones), paged lists read whole, parameters checked
against the version before a run starts. Failures a user can act on (unreachable host, refused
credentials, unknown names, bad input) raise ClusterError, a LooplineInputError whose message is
one line; reaching the server and translating its failures is `connection`'s.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from components.version import VERSION
from loopline.kfp.connection import CONNECT_TIMEOUT, TOKEN_PATH_ENV, guarded, probe, quiet, read_token, resolve_host
from loopline.kfp.errors import ClusterError
from loopline.kfp.package import Package

FINAL_STATES = ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED")
MAX_CONCURRENCY = range(1, 11)
PAGE_SIZE = 100


@dataclass(frozen=True)
class Upload:
    """What `upload` did: 'created' the pipeline, 'added' a version, or found it 'unchanged'."""

    outcome: str
    pipeline: Any
    version: Any


def _name_filter(name: str) -> str:
    return json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": name}]})


class Cluster:
    """A connected kfp.Client plus the host and namespace every call uses."""

    def __init__(self, client: Any, host: str, namespace: str | None) -> None:
        self.client, self.host, self.namespace = client, host, namespace

    # -- plumbing --------------------------------------------------------------------------
    def call(self, method: Callable[..., Any], *args: Any, not_found: Callable[[], str] | None = None,
             **kwargs: Any) -> Any:
        """Call a kfp.Client method quietly, failures as ClusterError (HTTP 400/404 with the message
        `not_found()` makes, when given: only then is it worked out)."""
        import kfp_server_api

        with guarded(self.host):
            try:
                with quiet():
                    return method(*args, **kwargs)
            except kfp_server_api.ApiException as exc:
                if not_found and exc.status in (400, 404):
                    raise ClusterError(not_found()) from None
                raise

    def all(self, method: Callable[..., Any], field: str, **kwargs: Any) -> list[Any]:
        """Every item of a paged list call."""
        items: list[Any] = []
        token = ""
        while True:
            page = self.call(method, page_token=token, page_size=PAGE_SIZE, **kwargs)
            items += getattr(page, field) or []
            token = page.next_page_token
            if not token:
                return items

    def _where(self) -> str:
        return f"{self.host} (namespace {self.namespace})" if self.namespace else self.host

    # -- pipelines -------------------------------------------------------------------------
    def find_pipeline(self, name: str) -> Any | None:
        """The pipeline with this display name: in the namespace first, then among shared ones."""
        for namespace in dict.fromkeys([self.namespace, None]):
            found = self.all(self.client.list_pipelines, "pipelines", filter=_name_filter(name), namespace=namespace)
            if len(found) > 1:
                raise ClusterError(f"{len(found)} pipelines are named {name} at {self._where()}; rename or delete one")
            if found:
                return found[0]
        return None

    def pipeline(self, name: str) -> Any:
        """The pipeline with this display name, or ClusterError listing the uploaded ones."""
        found = self.find_pipeline(name)
        if found is None:
            names = {p.display_name for ns in dict.fromkeys([self.namespace, None])
                     for p in self.all(self.client.list_pipelines, "pipelines", namespace=ns)}
            raise ClusterError(f"no pipeline named {name} at {self._where()} "
                               f"(uploaded: {', '.join(sorted(names)) or 'none'})")
        return found

    def version(self, pipeline: Any, name: str | None = None) -> Any:
        """A version by display name, or (None) the newest."""
        if name is None:
            page = self.call(self.client.list_pipeline_versions, pipeline_id=pipeline.pipeline_id,
                             sort_by="created_at desc", page_size=1)
            if not page.pipeline_versions:
                raise ClusterError(f"pipeline {pipeline.display_name} has no versions at {self._where()}")
            return page.pipeline_versions[0]
        found = self.all(self.client.list_pipeline_versions, "pipeline_versions", pipeline_id=pipeline.pipeline_id,
                         filter=_name_filter(name))
        if not found:
            names = [v.display_name for v in self.all(self.client.list_pipeline_versions, "pipeline_versions",
                                                      pipeline_id=pipeline.pipeline_id)]
            raise ClusterError(f"pipeline {pipeline.display_name} has no version named {name} "
                               f"(versions: {', '.join(names) or 'none'})")
        return found[0]

    def upload(self, package: Package) -> Upload:
        """Upload a package: a new pipeline, a new version, or nothing when this content is there."""
        description = f"{package.description} (loopline {VERSION}; {package.marker})".lstrip()
        pipeline = self.find_pipeline(package.name)
        if pipeline is None:
            pipeline = self.call(self.client.upload_pipeline, str(package.path), pipeline_name=package.name,
                                 description=description, namespace=self.namespace)
            return Upload("created", pipeline, self.version(pipeline))
        versions = self.all(self.client.list_pipeline_versions, "pipeline_versions", pipeline_id=pipeline.pipeline_id)
        same = [v for v in versions
                if v.display_name == package.version_name or package.marker in (v.description or "")]
        if same:
            return Upload("unchanged", pipeline, same[0])
        version = self.call(self.client.upload_pipeline_version, str(package.path), package.version_name,
                            pipeline_id=pipeline.pipeline_id, description=description)
        return Upload("added", pipeline, version)

    # -- experiments -----------------------------------------------------------------------
    def experiment(self, name: str, create: bool = False) -> Any:
        """The experiment with this name; created when missing if `create`, else ClusterError."""
        found = self.all(self.client.list_experiments, "experiments", filter=_name_filter(name),
                         namespace=self.namespace)
        if found:
            return found[0]
        if create:
            return self.call(self.client.create_experiment, name, namespace=self.namespace)
        names = [e.display_name
                 for e in self.all(self.client.list_experiments, "experiments", namespace=self.namespace)]
        raise ClusterError(f"no experiment named {name} at {self._where()} (experiments: {', '.join(names) or 'none'})")

    # -- runs ------------------------------------------------------------------------------
    def target(self, pipeline_name: str, version_name: str | None, params: dict[str, Any]) -> tuple[Any, Any]:
        """Pipeline and version to run, with `params` checked against the version's inputs."""
        pipeline = self.pipeline(pipeline_name)
        version = self.version(pipeline, version_name)
        spec = version.pipeline_spec if isinstance(version.pipeline_spec, dict) else {}
        spec = spec.get("pipeline_spec", spec)
        declared = ((spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters")
        if isinstance(declared, dict):
            label = f"pipeline {pipeline.display_name} version {version.display_name}"
            unknown = sorted(set(params) - set(declared))
            if unknown:
                raise ClusterError(f"{label} has no parameter {', '.join(unknown)} "
                                   f"(parameters: {', '.join(sorted(declared))})")
            missing = sorted(k for k, d in declared.items()
                             if k not in params and not d.get("isOptional") and "defaultValue" not in d)
            if missing:
                raise ClusterError(f"{label} needs --param for {', '.join(missing)}")
        return pipeline, version

    def submit(self, pipeline_name: str, version_name: str | None, experiment_name: str, run_name: str,
               params: dict[str, Any], pipeline_root: str | None = None) -> Any:
        """Start one run of a pipeline version in an experiment (created when missing)."""
        pipeline, version = self.target(pipeline_name, version_name, params)
        experiment = self.experiment(experiment_name, create=True)
        return self.call(self.client.run_pipeline, experiment_id=experiment.experiment_id, job_name=run_name,
                         params=params, pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id,
                         pipeline_root=pipeline_root)

    def run(self, run_id: str) -> Any:
        """One run by id."""
        return self.call(self.client.get_run, run_id,
                         not_found=lambda: f"no run with id {run_id} at {self._where()}")

    def runs(self, experiment_name: str | None = None, limit: int = 20) -> list[Any]:
        """The newest runs, of one experiment or of the namespace."""
        experiment_id = self.experiment(experiment_name).experiment_id if experiment_name else None
        page = self.call(self.client.list_runs, page_size=limit, sort_by="created_at desc",
                         experiment_id=experiment_id, namespace=self.namespace)
        return page.runs or []

    def wait(self, run_id: str, poll: float, timeout: float | None, progress: Callable[[str], None]) -> Any:
        """Poll a run until it ends or `timeout` seconds pass; report each state change."""
        start, last = time.monotonic(), None
        while True:
            run = self.run(run_id)
            state, elapsed = str(run.state or "PENDING"), time.monotonic() - start
            if state != last:
                progress(f"loopline: run {run.display_name}: {state} ({elapsed:.0f} s)")
                last = state
            if state in FINAL_STATES or (timeout and elapsed >= timeout):
                return run
            time.sleep(poll)

    # -- recurring runs --------------------------------------------------------------------
    def schedules(self, experiment_name: str | None = None, name: str | None = None) -> list[Any]:
        """Recurring runs of the namespace (or one experiment), optionally only those named `name`."""
        experiment_id = self.experiment(experiment_name).experiment_id if experiment_name else None
        return self.all(self.client.list_recurring_runs, "recurring_runs", experiment_id=experiment_id,
                        namespace=self.namespace, filter=_name_filter(name) if name else None)

    def schedule(self, name: str, pipeline_name: str, version_name: str | None, experiment_name: str,
                 params: dict[str, Any], kfp_cron: str | None = None, interval_seconds: int | None = None,
                 max_concurrency: int = 1, catchup: bool = False, enabled: bool = True,
                 pipeline_root: str | None = None) -> Any:
        """Create a recurring run (KFP 6-field cron or interval); names must be unique in the namespace."""
        if (kfp_cron is None) == (interval_seconds is None):
            raise ClusterError("a recurring run needs exactly one of a cron expression and an interval")
        if max_concurrency not in MAX_CONCURRENCY:
            raise ClusterError(f"max concurrency must be 1-10 (KFP's limit), got {max_concurrency}")
        pipeline, version = self.target(pipeline_name, version_name, params)
        existing = self.schedules(name=name)
        if existing:
            raise ClusterError(f"a recurring run named {name} already exists at {self._where()} "
                               f"(id {existing[0].recurring_run_id}): delete it or pass another --name")
        experiment = self.experiment(experiment_name, create=True)
        return self.call(self.client.create_recurring_run, experiment_id=experiment.experiment_id, job_name=name,
                         cron_expression=kfp_cron, interval_second=interval_seconds, max_concurrency=max_concurrency,
                         no_catchup=not catchup, params=params, pipeline_id=pipeline.pipeline_id,
                         version_id=version.pipeline_version_id, enabled=enabled, pipeline_root=pipeline_root)

    def recurring_run(self, name_or_id: str) -> Any:
        """A recurring run by its (unique) name, else by id."""
        found = self.schedules(name=name_or_id)
        if len(found) > 1:
            ids = ", ".join(r.recurring_run_id for r in found)
            raise ClusterError(f"{len(found)} recurring runs are named {name_or_id} (ids: {ids}): pass an id")
        if found:
            return found[0]
        return self.call(self.client.get_recurring_run, name_or_id, not_found=lambda: (
            f"no recurring run named or with id {name_or_id} at {self._where()} "
            f"(recurring runs: {', '.join(r.display_name for r in self.schedules()) or 'none'})"))


def connect(host: str | None, token: str | None = None, namespace: str | None = None,
            timeout: float = CONNECT_TIMEOUT) -> Cluster:
    """A kfp.Client for host; token from `token`, else the file named by $KF_PIPELINES_SA_TOKEN_PATH."""
    from kfp import Client
    from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

    host = resolve_host(host)
    token_path = os.environ.get(TOKEN_PATH_ENV) if not token else None
    sent = token or (read_token(token_path) if token_path else None)
    if probe(host, sent, timeout) and not namespace:
        raise ClusterError(f"KFP at {host} is multi-user: pass --namespace (your Kubeflow profile namespace)")
    credentials = ServiceAccountTokenVolumeCredentials(token_path) if token_path else None
    with guarded(host), quiet():  # the file is re-read on every request, as the kubelet rotates it
        client = Client(host=host, namespace=namespace or "kubeflow", existing_token=token or None,
                        credentials=credentials)
    return Cluster(client, host, namespace)
