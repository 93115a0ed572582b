"""`loopline run data-validation|training` (kfp.local, on this machine) and `loopline compile` (YAML).

Each option's `dest` is a pipeline parameter's name and its default the pipeline's (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from components.lib import uri as uri_io
from loopline import output, paths, preflight
from loopline.arguments import assignment, names, parameter

# What `loopline run` itself uses (not pipeline parameters), and the parameters that are paths or URIs.
RUNNER_OPTIONS = {"command", "pipeline", "func", "pipeline_root", "verbose"}
URI_PARAMETERS = {"source", "schema_uri", "baseline_statistics_uri", "registry_uri", "model_repository",
                  "prediction_log_uri", "retrain_source", "local_pipeline_root"}
DICT_PARAMETERS = {"floors", "thresholds", "overrides"}  # given as repeated KEY=VALUE options


def _add_runner_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline-root", type=Path, default=paths.PIPELINE_ROOT)
    parser.add_argument("--verbose", action="store_true", help="stream every step's full log (else: one line a step)")


def _add_monitoring_args(parser: argparse.ArgumentParser) -> None:
    _add_runner_args(parser)
    parser.add_argument("--prediction-log", dest="prediction_log_uri", default=str(paths.PREDICTION_LOG),
                        help="the predictor's prediction log: a folder or gs:// URI")
    parser.add_argument("--registry", dest="registry_uri", default=str(paths.REGISTRY),
                        help="model registry: a folder or gs:// URI")
    parser.add_argument("--model-name", default="", help="default: the registry's only model")
    parser.add_argument("--window-hours", type=float, default=24.0, help="the window: the last H hours")
    parser.add_argument("--since", default="", help="the window's start (ISO time); with --until instead of hours")
    parser.add_argument("--until", default="", help="the window's end (ISO time; default: now)")
    parser.add_argument("--threshold", dest="thresholds", type=assignment, action="append", default=[],
                        metavar="CHECK=V", help="psi, kl, js, linf or new threshold (repeatable)")
    parser.add_argument("--min-rows", type=int, default=500, help="fewer rows: insufficient data, never a retrain")
    parser.add_argument("--maturity-hours", type=float, default=24.0,
                        help="rows younger than this are not yet expected to have labels (label coverage)")
    parser.add_argument("--performance-tolerance", type=float, default=0.05,
                        help="how much worse than its eval metrics a version may do on labelled traffic")
    parser.add_argument("--min-labels", type=int, default=50, help="fewer labelled rows: no performance verdict")
    parser.add_argument("--pushgateway-url", default="", help="push the metrics to this Prometheus Pushgateway")
    parser.add_argument("--retrain-source", default="", help="the new labelled data to retrain on (URI)")
    parser.add_argument("--retrain-target", choices=["local", "kfp", "none"], default="local")
    parser.add_argument("--cooldown-hours", type=float, default=24.0, help="no second retrain within this")
    parser.add_argument("--override", dest="overrides", type=parameter, action="append", default=[],
                        metavar="KEY=VALUE", help="a training parameter instead of production's (repeatable)")
    parser.add_argument("--local-pipeline-root", default=str(paths.PIPELINE_ROOT),
                        help="where a local retraining run goes")
    parser.add_argument("--kfp-host", default="", help="KFP API URL (target kfp)")
    parser.add_argument("--kfp-namespace", default="", help="Kubeflow profile namespace (target kfp)")
    parser.add_argument("--training-pipeline", default="loopline-training", help="the uploaded training pipeline")
    parser.add_argument("--experiment", default="loopline", help="the KFP experiment of retraining runs")
    _add_approval_arg(parser)


def _add_data_validation_args(parser: argparse.ArgumentParser) -> None:
    _add_runner_args(parser)
    parser.add_argument("--source", default=str(paths.BUNDLED_DATA), help="CSV/Parquet file, folder, glob or gs:// URI")
    parser.add_argument("--label", dest="label_column", default="species",
                        help="label column (must exist in the source)")
    parser.add_argument("--eval-fraction", type=float, default=0.2)
    parser.add_argument("--key-column", default="", help="hash this column for the split instead of the whole row")
    parser.add_argument("--schema-uri", default="", help="curated schema (text proto); inferred when absent")
    parser.add_argument("--baseline-statistics-uri", default="", help="statistics to measure drift against")
    parser.add_argument("--drift-categorical-threshold", type=float, default=0.2)
    parser.add_argument("--drift-numeric-threshold", type=float, default=0.2)
    parser.add_argument("--skew-categorical-threshold", type=float, default=0.2)
    parser.add_argument("--skew-numeric-threshold", type=float, default=0.2)
    parser.add_argument("--statistics-engine", choices=["auto", "in_memory", "beam"], default="auto")
    parser.add_argument("--beam-arg", dest="beam_pipeline_args", action="append", default=[],
                        help="a Beam pipeline option (repeatable)")
    parser.add_argument("--on-anomalies", choices=["fail", "continue"], default="fail")


def _add_training_args(parser: argparse.ArgumentParser) -> None:
    _add_data_validation_args(parser)
    parser.add_argument("--registry", dest="registry_uri", default=str(paths.REGISTRY),
                        help="model registry: a folder or gs:// URI")
    parser.add_argument("--model-name", default="", help="default: derived from the source's file or folder name")
    parser.add_argument("--features", type=names, default=[], help="comma-separated features (default: all)")
    parser.add_argument("--exclude-features", type=names, default=[])
    parser.add_argument("--categorical-features", type=names, default=[],
                        help="comma-separated columns to take as categories whatever their type (integer codes)")
    parser.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    parser.add_argument("--hidden-units", type=int, default=16)
    parser.add_argument("--hidden-layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", dest="early_stopping_patience", type=int, default=5,
                        help="early-stopping patience (epochs)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--trainer", choices=["fused", "keras"], default="fused",
                        help="fused: XLA-compiled epochs over the features encoded once; keras: model.fit")
    parser.add_argument("--floor", dest="floors", type=assignment, action="append", default=[],
                        metavar="min_METRIC=V|max_METRIC=V",
                        help="an absolute limit the candidate must meet (repeatable)")
    parser.add_argument("--tolerance", type=float, default=0.01, help="how much worse than production is allowed")
    parser.add_argument("--slice-columns", type=names, default=[], help="default: every categorical feature")
    parser.add_argument("--golden-rows", type=int, default=16, help="eval rows infra validation sends")
    parser.add_argument("--model-repository", default=str(paths.MODEL_REPOSITORY),
                        help="where deploy places production bundles")
    parser.add_argument("--server-url", default="", help="a running local predictor to ask to load the new version")
    parser.add_argument("--deploy-target", choices=["local", "kserve"], default="local")
    parser.add_argument("--kserve-namespace", default="loopline")
    parser.add_argument("--min-replicas", type=int, default=1)
    parser.add_argument("--max-replicas", type=int, default=3)
    parser.add_argument("--canary-traffic-percent", type=int, default=-1, help="-1: no canary")
    parser.add_argument("--rollout-timeout", dest="rollout_timeout_seconds", type=float, default=600.0,
                        help="seconds to wait for Ready")
    _add_approval_arg(parser)
    parser.add_argument("--intended-use", default="", metavar="TEXT",
                        help="the model card's intended use and limitations")
    parser.add_argument("--triggered-by", default="", metavar="TEXT",
                        help="what started this run, kept with the version (retraining passes its monitoring run)")


def _add_approval_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--approval", choices=["auto", "manual"], default="auto",
                        help="manual: a version that passes every gate waits for `loopline models approve`")


# Each pipeline's options, by the pipeline's name.
OPTIONS = {"data-validation": _add_data_validation_args, "training": _add_training_args,
           "monitoring": _add_monitoring_args}


def option_flags(pipeline: str) -> dict[str, str]:
    """Each parameter of `pipeline` and the `loopline run` flag that sets it (for a child `loopline run`)."""
    parser = argparse.ArgumentParser(add_help=False)
    OPTIONS[pipeline](parser)
    return {action.dest: action.option_strings[0] for action in parser._actions
            if action.option_strings and action.dest not in RUNNER_OPTIONS}


def pipeline_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The pipeline's arguments: every option but the runner's own (each option's `dest` is the
    parameter's name), local paths made absolute, repeated KEY=VALUE options as dicts."""
    given = {name: value for name, value in vars(args).items() if name not in RUNNER_OPTIONS}
    for name in URI_PARAMETERS & set(given):
        given[name] = uri_io.absolute(given[name])
    for name in DICT_PARAMETERS & set(given):
        given[name] = dict(given[name])
    return given


def run(args: argparse.Namespace) -> int:
    """Run `loopline run PIPELINE`: the pipeline under kfp.local, then its summary; 1 when a step failed."""
    from loopline.local_runner import run_locally

    arguments = pipeline_arguments(args)
    if args.pipeline == "training":
        if not arguments["model_name"]:
            arguments["model_name"] = preflight.model_name_from(args.source)
            print(f"{output.PREFIX}: model name {arguments['model_name']!r}, from the source's name "
                  "(--model-name to choose another)")
        preflight.check_training(arguments)
    elif args.pipeline == "monitoring":
        if not arguments["model_name"]:
            arguments["model_name"] = preflight.model_in_registry(arguments["registry_uri"])
            print(f"{output.PREFIX}: model {arguments['model_name']!r}, the registry's only one "
                  "(--model-name to name another)")
        preflight.check_monitoring(arguments)
    else:
        preflight.check_data_validation(arguments)
    print(f"{output.PREFIX}: running pipeline {args.pipeline} with kfp.local"
          + ("" if args.verbose else " (a line per step; --verbose streams the full log)"), flush=True)
    result = run_locally(args.pipeline, arguments, args.pipeline_root, verbose=args.verbose)
    print()
    print("\n".join(output.summary(result)))
    if not result.succeeded:
        print(f"{output.PREFIX}: {result.error}", file=sys.stderr)
        return 1
    return 0


def compile_pipelines(args: argparse.Namespace) -> int:
    """Run `loopline compile`: every pipeline to YAML, with the compile-time settings of the environment."""
    from pipelines.compiling import compile_all
    from pipelines.settings import CompileSettings

    for path in compile_all(CompileSettings.from_env(os.environ), args.out_dir):
        print(f"{output.PREFIX}: compiled {path}")
    return 0


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add the `run` and `compile` subcommands to the `loopline` command."""
    from pipelines.compiling import COMPILED_DIR

    parser = commands.add_parser("run", help="run a pipeline locally with kfp.local")
    pipelines = parser.add_subparsers(dest="pipeline", required=True)
    helps = {"data-validation": "ingest -> validate",
             "training": "ingest -> validate -> train -> evaluate + infra-validate -> register -> deploy",
             "monitoring": "monitor -> retrain (on drift)"}
    for name, add_options in OPTIONS.items():
        add_options(pipelines.add_parser(name, help=helps[name]))
    parser.set_defaults(func=run)

    compiling = commands.add_parser("compile", help="compile every pipeline to YAML (settings: LOOPLINE_* variables)")
    compiling.add_argument("--out-dir", type=Path, default=COMPILED_DIR)
    compiling.set_defaults(func=compile_pipelines)
