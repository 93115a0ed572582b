"""The `loopline` command: compile pipelines, run them locally, generate data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from components import uri as uri_io
from components.errors import LooplineInputError
from pipelines import generate, models_cli, predict_cli, serve_cli
from pipelines import cluster_cli
from pipelines.compiling import COMPILED_DIR, compile_all

if TYPE_CHECKING:
    from pipelines.local_run import LocalRun

BUNDLED_DATA = Path(__file__).resolve().parents[1] / "data" / "penguins.csv"


def _add_data_validation_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default=str(BUNDLED_DATA), help="CSV/Parquet file, folder, glob or gs:// URI")
    parser.add_argument("--label", default="species", help="label column (must exist in the source)")
    parser.add_argument("--eval-fraction", type=float, default=0.2)
    parser.add_argument("--key-column", default="", help="hash this column for the split instead of the whole row")
    parser.add_argument("--schema-uri", default="", help="curated schema (text proto); inferred when absent")
    parser.add_argument("--baseline-statistics-uri", default="", help="statistics to measure drift against")
    parser.add_argument("--drift-categorical-threshold", type=float, default=0.2)
    parser.add_argument("--drift-numeric-threshold", type=float, default=0.2)
    parser.add_argument("--skew-categorical-threshold", type=float, default=0.2)
    parser.add_argument("--skew-numeric-threshold", type=float, default=0.2)
    parser.add_argument("--statistics-engine", choices=["auto", "in_memory", "beam"], default="auto")
    parser.add_argument("--beam-arg", action="append", default=[], help="a Beam pipeline option (repeatable)")
    parser.add_argument("--on-anomalies", choices=["fail", "continue"], default="fail")
    parser.add_argument("--pipeline-root", type=Path, default=Path("out/pipeline-root"))


def _data_validation_arguments(args: argparse.Namespace) -> dict:
    return {
        "source": uri_io.absolute(args.source),
        "label_column": args.label,
        "eval_fraction": args.eval_fraction,
        "key_column": args.key_column,
        "schema_uri": uri_io.absolute(args.schema_uri),
        "baseline_statistics_uri": uri_io.absolute(args.baseline_statistics_uri),
        "drift_categorical_threshold": args.drift_categorical_threshold,
        "drift_numeric_threshold": args.drift_numeric_threshold,
        "skew_categorical_threshold": args.skew_categorical_threshold,
        "skew_numeric_threshold": args.skew_numeric_threshold,
        "statistics_engine": args.statistics_engine,
        "beam_pipeline_args": args.beam_arg,
        "on_anomalies": args.on_anomalies,
    }


def _add_training_args(parser: argparse.ArgumentParser) -> None:
    _add_data_validation_args(parser)
    parser.add_argument("--registry", default="out/registry", help="model registry: a folder or gs:// URI")
    parser.add_argument("--model-name", default="penguins")
    parser.add_argument("--features", type=_names, default=[], help="comma-separated features (default: all)")
    parser.add_argument("--exclude-features", type=_names, default=[])
    parser.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    parser.add_argument("--hidden-units", type=int, default=16)
    parser.add_argument("--hidden-layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", type=int, default=5, help="early-stopping patience (epochs)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--floor", type=_floor, action="append", default=[], metavar="min_METRIC=V|max_METRIC=V",
                        help="an absolute limit the candidate must meet (repeatable)")
    parser.add_argument("--tolerance", type=float, default=0.01, help="how much worse than production is allowed")
    parser.add_argument("--slice-columns", type=_names, default=[], help="default: every categorical feature")
    parser.add_argument("--golden-rows", type=int, default=16, help="eval rows infra validation sends")
    parser.add_argument("--model-repository", default="out/models", help="where deploy places production bundles")
    parser.add_argument("--server-url", default="", help="a running local predictor to ask to load the new version")
    parser.add_argument("--deploy-target", choices=["local", "kserve"], default="local")
    parser.add_argument("--kserve-namespace", default="loopline")
    parser.add_argument("--min-replicas", type=int, default=1)
    parser.add_argument("--max-replicas", type=int, default=3)
    parser.add_argument("--canary-traffic-percent", type=int, default=-1, help="-1: no canary")
    parser.add_argument("--rollout-timeout", type=float, default=600.0, help="seconds to wait for Ready")


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _floor(text: str) -> tuple[str, float]:
    key, _, value = text.partition("=")
    try:
        return key.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected min_METRIC=NUMBER or max_METRIC=NUMBER, got {text!r}") from None


def _training_arguments(args: argparse.Namespace) -> dict:
    return {
        **_data_validation_arguments(args),
        "registry_uri": uri_io.absolute(args.registry),
        "model_name": args.model_name,
        "features": args.features,
        "exclude_features": args.exclude_features,
        "task": args.task,
        "hidden_units": args.hidden_units,
        "hidden_layers": args.hidden_layers,
        "dropout": args.dropout,
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "early_stopping_patience": args.patience,
        "seed": args.seed,
        "floors": dict(args.floor),
        "tolerance": args.tolerance,
        "slice_columns": args.slice_columns,
        "golden_rows": args.golden_rows,
        "model_repository": uri_io.absolute(args.model_repository),
        "server_url": args.server_url,
        "deploy_target": args.deploy_target,
        "kserve_namespace": args.kserve_namespace,
        "min_replicas": args.min_replicas,
        "max_replicas": args.max_replicas,
        "canary_traffic_percent": args.canary_traffic_percent,
        "rollout_timeout_seconds": args.rollout_timeout,
    }


ARGUMENTS = {"data-validation": _data_validation_arguments, "training": _training_arguments}


def _print_summary(result: "LocalRun") -> None:
    print()
    print(f"loopline: pipeline {result.name} {'succeeded' if result.succeeded else 'FAILED'} "
          f"in {result.seconds:.1f} s; run folder: {result.run_dir}")
    if result.decision:
        verdict = "data OK" if result.decision["data_ok"] else "data NOT OK"
        print(f"loopline: {verdict}: {result.decision['reason']}")
    if result.evaluation:
        candidate = result.evaluation["candidate"]
        shown = ", ".join(f"{k}={candidate[k]:.4f}" for k in ("accuracy", "macro_f1", "macro_roc_auc", "log_loss",
                                                              "rmse", "mae", "r2") if candidate.get(k) is not None)
        decision = result.evaluation["decision"]
        print(f"loopline: metrics on {candidate['count']:,} eval rows: {shown}")
        print(f"loopline: {'APPROVED' if decision['approved'] else 'NOT APPROVED'}: {decision['reason']}")
    if result.registered:
        print(f"loopline: registered version {result.registered['version']}: {result.registered['uri']}")
    if result.deployment:
        print(f"loopline: {'DEPLOYED' if result.deployment['deployed'] else 'NOT DEPLOYED'}: "
              f"{result.deployment['reason']}")
    for name, path in result.reports.items():
        print(f"loopline: {name}: {path}")


def _run(args: argparse.Namespace) -> int:
    from pipelines.local_run import run_locally

    result = run_locally(args.pipeline, ARGUMENTS[args.pipeline](args), args.pipeline_root)
    _print_summary(result)
    if not result.succeeded:
        print(f"loopline: {result.error}", file=sys.stderr)
        return 1
    return 0


def _compile(args: argparse.Namespace) -> int:
    try:
        written = compile_all(args.out_dir)
    except LooplineInputError as err:
        print(f"loopline compile: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"loopline: compiled {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="loopline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a pipeline locally with kfp.local")
    pipelines = run.add_subparsers(dest="pipeline", required=True)
    _add_data_validation_args(pipelines.add_parser("data-validation", help="ingest -> validate"))
    _add_training_args(pipelines.add_parser("training", help="ingest -> validate -> train -> evaluate -> register"))
    run.set_defaults(func=_run)

    comp = commands.add_parser("compile", help="compile every pipeline to YAML")
    comp.add_argument("--out-dir", type=Path, default=COMPILED_DIR)
    comp.set_defaults(func=_compile)

    generate.add_parser(commands)
    models_cli.add_parser(commands)
    serve_cli.add_parser(commands)
    predict_cli.add_parser(commands)
    cluster_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `loopline` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
