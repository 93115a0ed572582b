"""`loopline monitor`: the drift and performance of a model's served traffic in a window, as tables, and the decision.

The same logic as the monitoring pipeline's `monitor` step (components/monitor/), run in this process.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from components.lib import uri as uri_io
from loopline import output, paths
from loopline.arguments import assignment, whole_number

if TYPE_CHECKING:
    from components.monitor.executor import Monitoring, VersionReport
    from components.monitor.performance import Performance


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `monitor` subcommand to the `loopline` command."""
    parser = subparsers.add_parser("monitor", help="drift of the served traffic against the production baseline")
    parser.add_argument("--prediction-log", default=str(paths.PREDICTION_LOG), metavar="URI",
                        help="the predictor's prediction log: a folder or gs:// URI (default %(default)s)")
    parser.add_argument("--model", default="", help="default: the registry's only model")
    parser.add_argument("--registry", default=str(paths.REGISTRY), metavar="URI")
    parser.add_argument("--hours", type=float, default=24.0, help="the window: the last H hours (default 24)")
    parser.add_argument("--since", default="", help="the window's start, ISO time (UTC unless an offset is given)")
    parser.add_argument("--until", default="", help="the window's end, ISO time (default: now)")
    parser.add_argument("--threshold", type=assignment, action="append", default=[], metavar="MEASURE=V",
                        help="a psi, kl, js, linf or new threshold (repeatable; defaults psi 0.2, kl 0.2, js 0.1, "
                             "linf 0.1, new 0.01)")
    parser.add_argument("--min-rows", type=whole_number, default=500, help="fewer rows: insufficient data")
    parser.add_argument("--maturity-hours", type=float, default=24.0,
                        help="rows younger than this are not yet expected to have labels (default 24)")
    parser.add_argument("--min-labels", type=whole_number, default=50,
                        help="fewer labelled rows: no performance verdict (default 50)")
    parser.add_argument("--performance-tolerance", type=float, default=0.05,
                        help="how much worse than its eval metrics a version may do on labelled traffic (default 0.05)")
    parser.add_argument("--json", action="store_true", help="print monitoring.json instead of the table")
    parser.set_defaults(func=run_monitor)


def _cells(values: dict[str, float], floors: dict[str, float], measures: tuple[str, ...]) -> list[str]:
    return [f"{values[m]:.4f} ({floors[m]:.4f})" for m in measures]


def _anomaly_line(version: VersionReport) -> str:
    """One version's TFDV schema anomalies in one line: the count, then each feature and TFDV's short name."""
    found = ", ".join(f"{a.feature} ({a.short})" for a in version.anomalies)
    return (f"{output.PREFIX}: v{version.version}: {version.anomaly_count} TFDV schema "
            f"{'anomaly' if version.anomaly_count == 1 else 'anomalies'} on {version.schema_checked_rows:,} "
            f"checked rows: {found} (details: --json or the report)")


def performance_rows(result: Monitoring) -> list[list[str]]:
    """Per version: traffic share, labelled rows and coverage, realized and estimated accuracy (or RMSE), findings."""
    rows = []
    for version in result.versions:
        judged = version.performance
        if judged is None:
            continue
        metric = "accuracy" if judged.task == "classification" else "rmse"
        realized = judged.realized.metrics[metric].shown() if judged.realized else "-"
        estimated = judged.estimated.metrics[metric] if judged.estimated and metric in judged.estimated.metrics \
            else None
        coverage = "-" if judged.label_coverage is None else f"{judged.label_coverage:.0%}"
        flags = len(judged.degradations) + len(judged.warnings)
        rows.append([f"v{version.version}{'*' if version.production else ''}", f"{version.traffic_share:.0%}",
                     f"{judged.labelled_rows:,}", coverage, metric, _reference(judged, metric), realized,
                     f"{estimated.value:.3f} ± {judged.estimated.error:.3f}" if estimated else "-",
                     f"{flags} (see the reason)" if flags else "-"])
    return rows


def _reference(judged: Performance, metric: str) -> str:
    return f"{judged.reference[metric]:.3f}" if metric in judged.reference else "-"


def run_monitor(args: argparse.Namespace) -> int:
    """Run `loopline monitor`: one row per version and feature, a line per version with TFDV anomalies, then the
    decision line."""
    from components.monitor.executor import monitor
    from components.monitor.log_reading import window_of
    from components.monitor.measures import MEASURES
    from components.monitor.performance import PerformanceSettings
    from loopline.models import cli_run_id
    from loopline.preflight import model_in_registry

    registry = uri_io.absolute(args.registry)
    model = args.model or model_in_registry(registry)
    result = monitor(uri_io.absolute(args.prediction_log), model, registry,
                     window_of(args.since, args.until, args.hours), thresholds=dict(args.threshold),
                     min_rows=args.min_rows, log=lambda _: None,
                     settings=PerformanceSettings(maturity_hours=args.maturity_hours, min_labels=args.min_labels,
                                                  performance_tolerance=args.performance_tolerance),
                     run=cli_run_id())
    if args.json:
        print(result.to_json())
        return 0
    rows = [[f"v{v.version}{'*' if v.production else ''}", f"{v.rows:,}", d.name,
             *_cells(d.measures, d.floors, MEASURES), ",".join(d.drifted_by) or "-"]
            for v in result.versions for d in v.drift]
    if rows:
        print(output.table(["VERSION", "ROWS", "FEATURE", *[f"{m.upper()} (FLOOR)" for m in MEASURES], "DRIFTED BY"],
                           rows))
    for version in result.versions:
        if version.anomaly_count:
            print(_anomaly_line(version))
    judged = performance_rows(result)
    if judged:
        print(output.table(["VERSION", "TRAFFIC", "LABELLED", "COVERAGE", "METRIC", "EVAL", "REALIZED [95%]",
                            "ESTIMATED", "FINDINGS"], judged))
    if result.canary is not None:
        print(f"{output.PREFIX}: canary v{result.canary.canary} vs stable v{result.canary.stable}: "
              f"{result.canary.verdict.upper()}: {result.canary.reason}")
    print(f"{output.PREFIX}: window {result.window}; thresholds "
          + ", ".join(f"{m} {result.thresholds[m]:g}" for m in MEASURES) + "; * = production")
    print(f"{output.PREFIX}: {result.decision.upper()}: {result.reason}")
    return 0

