"""The `loopline` command: compile pipelines, run them locally, generate data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from components import uri as uri_io
from pipelines import generate, models_cli
from pipelines.compiling import COMPILED_DIR, compile_all

BUNDLED_DATA = Path(__file__).resolve().parents[1] / "data" / "penguins.csv"


def _absolute(uri: str) -> str:
    """Local paths made absolute (each step runs in its own process); URIs and "" as given."""
    return uri if not uri or uri_io.is_gcs(uri) else str(Path(uri).resolve())


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
        "source": _absolute(args.source),
        "label_column": args.label,
        "eval_fraction": args.eval_fraction,
        "key_column": args.key_column,
        "schema_uri": _absolute(args.schema_uri),
        "baseline_statistics_uri": _absolute(args.baseline_statistics_uri),
        "drift_categorical_threshold": args.drift_categorical_threshold,
        "drift_numeric_threshold": args.drift_numeric_threshold,
        "skew_categorical_threshold": args.skew_categorical_threshold,
        "skew_numeric_threshold": args.skew_numeric_threshold,
        "statistics_engine": args.statistics_engine,
        "beam_pipeline_args": args.beam_arg,
        "on_anomalies": args.on_anomalies,
    }


def _run(args: argparse.Namespace) -> int:
    from pipelines.local_run import run_locally

    result = run_locally(args.pipeline, _data_validation_arguments(args), args.pipeline_root)
    print()
    print(f"loopline: pipeline {args.pipeline} {'succeeded' if result.succeeded else 'FAILED'} "
          f"in {result.seconds:.1f} s; run folder: {result.run_dir}")
    if result.decision:
        verdict = "data OK" if result.decision["data_ok"] else "data NOT OK"
        print(f"loopline: {verdict}: {result.decision['reason']}")
    for name, path in result.reports.items():
        print(f"loopline: {name}: {path}")
    if not result.succeeded:
        print(f"loopline: {result.error}", file=sys.stderr)
        return 1
    return 0


def _compile(args: argparse.Namespace) -> int:
    for path in compile_all(args.out_dir):
        print(f"loopline: compiled {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="loopline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a pipeline locally with kfp.local")
    pipelines = run.add_subparsers(dest="pipeline", required=True)
    _add_data_validation_args(pipelines.add_parser("data-validation", help="ingest -> validate"))
    run.set_defaults(func=_run)

    comp = commands.add_parser("compile", help="compile every pipeline to YAML")
    comp.add_argument("--out-dir", type=Path, default=COMPILED_DIR)
    comp.set_defaults(func=_compile)

    generate.add_parser(commands)
    models_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `loopline` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
