"""`loopline upload|submit|schedule|runs`: the pipelines on a Kubeflow Pipelines cluster, via kfp.Client.

Connection: --host (default $KF_PIPELINES_ENDPOINT, an http(s) URL such as a port-forward
http://localhost:8080 or https://<kubeflow>/pipeline); a bearer token from --token, else from
the file named by $KF_PIPELINES_SA_TOKEN_PATH (re-read on each request), else none;
--namespace: your Kubeflow profile namespace (required when KFP is multi-user).

PIPELINE is a loopline pipeline (data-validation, training: its compiled YAML under
pipelines/compiled/ names it on KFP, e.g. loopline-training) or any KFP pipeline name.
`submit` and `schedule create` create the experiment when it is missing; `runs list` and
`schedule list` with an unknown --experiment are errors. Cron is the standard 5 fields, in
UTC (KFP's scheduler runs cron in UTC); loopline converts it to KFP's seconds-first form.

Exit codes: 0 done; 1 a waited-for run ended other than SUCCEEDED or the wait timed out;
2 an error (a ClusterError, reported by `loopline` as one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from loopline.arguments import concurrency, interval, parameter, seconds
from loopline.kfp import cron
from loopline.output import table
from pipelines.compiling import compiled_names, compiled_path

RUN_FAILED_EXIT = 1
DEFAULT_EXPERIMENT = "loopline"


def kfp_name(pipeline: str) -> str:
    """A loopline pipeline's KFP name (from its compiled YAML); other names as given."""
    from loopline.kfp.package import read_package

    return read_package(compiled_path(pipeline)).name if pipeline in compiled_names() else pipeline


def _when(moment: Any) -> str:
    if not isinstance(moment, datetime) or moment.year <= 1970:
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _connect(args: argparse.Namespace) -> Any:
    from loopline.kfp.client import connect

    return connect(args.host, args.token, args.namespace)


def _upload(args: argparse.Namespace) -> int:
    from loopline.kfp.package import read_package

    package = read_package(args.package or compiled_path(args.pipeline))
    done = _connect(args).upload(package)
    pipeline, version = done.pipeline, done.version
    if done.outcome == "unchanged":
        print(f"loopline: pipeline {pipeline.display_name} already has this content as version "
              f"{version.display_name} ({version.pipeline_version_id}); nothing uploaded")
    elif done.outcome == "created":
        print(f"loopline: uploaded new pipeline {pipeline.display_name} ({pipeline.pipeline_id}); first version "
              f"{version.display_name} ({version.pipeline_version_id}), {package.marker[:19]}")
    else:
        print(f"loopline: uploaded version {version.display_name} ({version.pipeline_version_id}) of pipeline "
              f"{pipeline.display_name} ({pipeline.pipeline_id})")
    return 0


def _finish(cluster: Any, run: Any, args: argparse.Namespace) -> int:
    """Follow a run with --wait: 0 when it SUCCEEDED, else one line on stderr and 1."""
    if not args.wait:
        return 0
    run = cluster.wait(run.run_id, args.poll, args.timeout, print)
    state = str(run.state)
    if state == "SUCCEEDED":
        return 0
    if state in ("FAILED", "SKIPPED", "CANCELED"):
        reason = f": {' '.join(run.error.message.split())}" if run.error and run.error.message else ""
        print(f"loopline: run {run.display_name} ({run.run_id}) ended {state}{reason}", file=sys.stderr)
    else:
        print(f"loopline: run {run.display_name} ({run.run_id}) is still {state} after {args.timeout:g} s; "
              "it keeps running in KFP", file=sys.stderr)
    return RUN_FAILED_EXIT


def _submit(args: argparse.Namespace) -> int:
    name = kfp_name(args.pipeline)
    cluster = _connect(args)
    run_name = args.run_name or f"{name} {datetime.now():%Y-%m-%d %H:%M:%S}"
    run = cluster.submit(name, args.version, args.experiment, run_name, dict(args.param), args.pipeline_root)
    print(f"loopline: submitted run {run.display_name} ({run.run_id}) in experiment {args.experiment}; "
          f"details: {cluster.host}/#/runs/details/{run.run_id}")
    return _finish(cluster, run, args)


def _trigger(recurring: Any) -> str:
    trigger = recurring.trigger
    if trigger and trigger.cron_schedule:
        return f"cron {trigger.cron_schedule.cron}"
    if trigger and trigger.periodic_schedule:
        return f"every {trigger.periodic_schedule.interval_second} s"
    return "-"


def _schedule_create(args: argparse.Namespace) -> int:
    kfp_cron = cron.to_kfp(args.cron) if args.cron is not None else None
    name = kfp_name(args.pipeline)
    cluster = _connect(args)
    created = cluster.schedule(args.name or name, name, args.version, args.experiment, dict(args.param), kfp_cron,
                               args.every, args.max_concurrency, args.catchup, not args.disabled, args.pipeline_root)
    when = f"cron {args.cron!r} (UTC) = KFP {kfp_cron!r}" if kfp_cron else f"every {args.every} s"
    print(f"loopline: recurring run {created.display_name} ({created.recurring_run_id}) "
          f"{'created disabled' if args.disabled else 'created'}: {when}, max concurrency {args.max_concurrency}, "
          f"{'catch-up' if args.catchup else 'no catch-up'}, experiment {args.experiment}")
    return 0


def _schedule_change(args: argparse.Namespace) -> int:
    cluster = _connect(args)
    recurring = cluster.recurring_run(args.schedule)
    action = {"enable": cluster.client.enable_recurring_run, "disable": cluster.client.disable_recurring_run,
              "delete": cluster.client.delete_recurring_run}[args.schedule_command]
    cluster.call(action, recurring.recurring_run_id)
    print(f"loopline: recurring run {recurring.display_name} ({recurring.recurring_run_id}) {args.schedule_command}d")
    return 0


def _schedule_list(args: argparse.Namespace) -> int:
    found = _connect(args).schedules(args.experiment)
    if not found:
        print("loopline: no recurring runs")
        return 0
    rows = [[r.display_name, str(r.status or "-"), _trigger(r), str(r.max_concurrency or "-"),
             "no" if r.no_catchup else "yes", _when(r.created_at), r.recurring_run_id] for r in found]
    print(table(["NAME", "STATUS", "SCHEDULE", "MAX CONCURRENCY", "CATCH-UP", "CREATED", "ID"], rows))
    return 0


def _runs_list(args: argparse.Namespace) -> int:
    found = _connect(args).runs(args.experiment, args.limit)
    if not found:
        print("loopline: no runs")
        return 0
    rows = [[r.display_name, str(r.state or "-"), _when(r.created_at), _when(r.finished_at), r.run_id] for r in found]
    print(table(["NAME", "STATE", "CREATED", "FINISHED", "ID"], rows))
    return 0


def _runs_status(args: argparse.Namespace) -> int:
    cluster = _connect(args)
    run = cluster.run(args.run_id)
    reference = run.pipeline_version_reference
    lines = {
        "run": run.display_name, "id": run.run_id, "state": str(run.state or "-"),
        "experiment": run.experiment_id or "-",
        "pipeline": f"{reference.pipeline_id} version {reference.pipeline_version_id}" if reference else "-",
        "recurring run": run.recurring_run_id or "-", "created": _when(run.created_at),
        "finished": _when(run.finished_at),
        "parameters": json.dumps((run.runtime_config.parameters if run.runtime_config else None) or {}, sort_keys=True),
        "error": run.error.message if run.error and run.error.message else "-",
        "details": f"{cluster.host}/#/runs/details/{run.run_id}",
    }
    print("\n".join(f"{key + ':':15}{value}" for key, value in lines.items()))
    return _finish(cluster, run, args)


def _parents() -> dict[str, argparse.ArgumentParser]:
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--host", help="KFP API URL (default $KF_PIPELINES_ENDPOINT)")
    connection.add_argument("--token", help="bearer token (default: the file named by $KF_PIPELINES_SA_TOKEN_PATH)")
    connection.add_argument("--namespace", help="Kubeflow profile namespace (required on multi-user KFP)")
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("pipeline", metavar="PIPELINE", help=f"{' | '.join(compiled_names())} | a KFP pipeline name")
    target.add_argument("--version", help="pipeline version name (default: the newest)")
    target.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="created when missing (default %(default)s)")
    target.add_argument("--param", type=parameter, action="append", default=[], metavar="KEY=VALUE",
                        help="a pipeline parameter, JSON-decoded when it parses (repeatable)")
    target.add_argument("--pipeline-root", help="where the run's artifacts go (default: KFP's)")
    waiting = argparse.ArgumentParser(add_help=False)
    waiting.add_argument("--wait", action="store_true", help="follow the run; exit 1 unless it SUCCEEDED")
    waiting.add_argument("--poll", type=seconds, default=10.0, help="seconds between polls (default %(default)s)")
    waiting.add_argument("--timeout", type=seconds, default=0.0, help="give up waiting after this (0: never)")
    return {"connection": connection, "target": target, "waiting": waiting}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add the `upload`, `submit`, `schedule` and `runs` subcommands to the `loopline` command."""
    parents = _parents()
    connection, target, waiting = parents["connection"], parents["target"], parents["waiting"]
    formatting = {"description": __doc__, "formatter_class": argparse.RawDescriptionHelpFormatter}

    upload = commands.add_parser("upload", parents=[connection], help="upload a compiled pipeline to KFP "
                                 "(a new version only when its content changed)", **formatting)
    upload.add_argument("pipeline", choices=compiled_names())
    upload.add_argument("--package", type=Path, help="compiled YAML to upload (default: pipelines/compiled/)")
    upload.set_defaults(func=_upload)

    submit = commands.add_parser("submit", parents=[connection, target, waiting], help="start a run on KFP",
                                 **formatting)
    submit.add_argument("--run-name", help="default: '<pipeline> <local time>'")
    submit.set_defaults(func=_submit)

    schedule = commands.add_parser("schedule", help="create, enable, disable, delete and list recurring runs",
                                   **formatting)
    actions = schedule.add_subparsers(dest="schedule_command", required=True)
    create = actions.add_parser("create", parents=[connection, target], help="create a recurring run")
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="standard 5-field cron or @daily/@hourly/...; UTC")
    when.add_argument("--every", type=interval, metavar="DURATION", help="an interval: 3600, 90s, 30m, 6h, 1d")
    create.add_argument("--name", help="unique recurring run name (default: the KFP pipeline name)")
    create.add_argument("--max-concurrency", type=concurrency, default=1, help="runs at once, 1-10 (default 1)")
    create.add_argument("--catchup", action="store_true", help="backfill intervals missed while paused (default: no)")
    create.add_argument("--disabled", action="store_true", help="create it disabled")
    create.set_defaults(func=_schedule_create)
    for verb in ("enable", "disable", "delete"):
        change = actions.add_parser(verb, parents=[connection], help=f"{verb} a recurring run")
        change.add_argument("schedule", metavar="NAME_OR_ID")
        change.set_defaults(func=_schedule_change)
    listing = actions.add_parser("list", parents=[connection], help="recurring runs with their schedules")
    listing.add_argument("--experiment", help="only this experiment's")
    listing.set_defaults(func=_schedule_list)

    runs = commands.add_parser("runs", help="list runs, show one run's status", **formatting)
    run_actions = runs.add_subparsers(dest="runs_command", required=True)
    run_list = run_actions.add_parser("list", parents=[connection], help="the newest runs")
    run_list.add_argument("--experiment", help="only this experiment's")
    run_list.add_argument("--limit", type=int, default=20)
    run_list.set_defaults(func=_runs_list)
    status = run_actions.add_parser("status", parents=[connection, waiting], help="one run's state and details")
    status.add_argument("run_id", metavar="RUN_ID")
    status.set_defaults(func=_runs_status)
