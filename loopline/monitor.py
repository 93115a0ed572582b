"""`loopline monitor`: the drift of a model's served traffic in a window, as a table, and the decision.

The same logic as the monitoring pipeline's `monitor` step (components/monitor/), run in this process.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from components.lib import uri as uri_io
from loopline import output, paths
from loopline.arguments import assignment, whole_number

if TYPE_CHECKING:
    from components.monitor.executor import VersionReport


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `monitor` subcommand to the `loopline` command."""
    parser = subparsers.add_parser("monitor", help="drift of the served traffic against the production baseline")
    parser.add_argument("--prediction-log", default=str(paths.PREDICTION_LOG), metavar="URI",
                        help="the predictor's prediction log: a folder or gs:// URI (default %(default)s)")
    parser.add_argument("--model", default="penguins")
    parser.add_argument("--registry", default=str(paths.REGISTRY), metavar="URI")
    parser.add_argument("--hours", type=float, default=24.0, help="the window: the last H hours (default 24)")
    parser.add_argument("--since", default="", help="the window's start, ISO time (UTC unless an offset is given)")
    parser.add_argument("--until", default="", help="the window's end, ISO time (default: now)")
    parser.add_argument("--threshold", type=assignment, action="append", default=[], metavar="MEASURE=V",
                        help="a psi, kl, js, linf or new threshold (repeatable; defaults psi 0.2, kl 0.2, js 0.1, "
                             "linf 0.1, new 0.01)")
    parser.add_argument("--min-rows", type=whole_number, default=500, help="fewer rows: insufficient data")
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


def run_monitor(args: argparse.Namespace) -> int:
    """Run `loopline monitor`: one row per version and feature, a line per version with TFDV anomalies, then the
    decision line."""
    from components.monitor.executor import monitor
    from components.monitor.log_reading import window_of
    from components.monitor.measures import MEASURES

    result = monitor(uri_io.absolute(args.prediction_log), args.model, uri_io.absolute(args.registry),
                     window_of(args.since, args.until, args.hours), thresholds=dict(args.threshold),
                     min_rows=args.min_rows, log=lambda _: None)
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
    print(f"{output.PREFIX}: window {result.window}; thresholds "
          + ", ".join(f"{m} {result.thresholds[m]:g}" for m in MEASURES) + "; * = production")
    print(f"{output.PREFIX}: {result.decision.upper()}: {result.reason}")
    return 0

