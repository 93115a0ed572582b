"""`loopline feedback`: store the labels that came back for served rows, so monitoring can measure real performance.

The file's rows are checked first (components/monitor/label_checks.py) and stored as one new batch in the labels store
beside the prediction log (components/lib/labels.py). By default one bad row stores nothing: the error names each
reason with its count and examples. With --skip-invalid the valid rows are stored and the refused ones written
beside the batch, every one of them, with its reason.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from loopline import output, paths
from loopline.arguments import non_negative

if TYPE_CHECKING:  # pyarrow and numpy load in feedback() only, so `loopline --help` starts fast
    from components.lib.labels import Batch
    from components.monitor.label_checks import Checked

LOOKBACK_DAYS: float = 30  # label_checks.DEFAULT_LOOKBACK_DAYS (a test keeps them equal)


@dataclass(frozen=True)
class Feedback:
    """One labels file taken: what the checks found and where the batch (and its refused rows) went."""

    checked: Checked
    batch: Batch


def feedback(labels_uri: str, model: str, log_uri: str, registry_uri: str,
             lookback_days: float = LOOKBACK_DAYS, skip_invalid: bool = False,
             now: datetime | None = None) -> Feedback:
    """Check a labels file against the prediction log and registry and store it as a batch arriving `now`; with a
    refused row, store nothing (LooplineInputError) unless `skip_invalid`."""
    from components.lib.labels import write_batch
    from components.lib.registry_records import check_name
    from components.monitor.label_checks import check_against_log, read_label_file

    check_name(model, "model")
    checked = check_against_log(read_label_file(labels_uri), log_uri, model, registry_uri, lookback_days, now)
    if checked.refusals and not skip_invalid:
        kept = checked.accepted.num_rows
        raise LooplineInputError(f"labels file {labels_uri}: {checked.summary()}; nothing stored (correct them, or "
                                 f"--skip-invalid to store the other {kept} and write the refused beside them)")
    batch = write_batch(log_uri, model, checked.accepted, checked.task, refused=checked.refused, now=now)
    return Feedback(checked, batch)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `feedback` subcommand to the `loopline` command."""
    parser = subparsers.add_parser("feedback", help="store labels for served rows (joined on their inference id)")
    parser.add_argument("--labels", required=True, metavar="FILE|URI",
                        help="a .csv, .parquet/.pq or .jsonl/.ndjson file, local or gs://, with the columns "
                             "inference_id, label and optionally time (ISO; UTC unless an offset is given)")
    parser.add_argument("--model", default="", help="default: the registry's only model")
    parser.add_argument("--prediction-log", default=str(paths.PREDICTION_LOG), metavar="URI",
                        help="the predictor's prediction log; the labels are stored in its _labels folder "
                             "(default %(default)s)")
    parser.add_argument("--registry", default=str(paths.REGISTRY), metavar="URI")
    parser.add_argument("--lookback-days", type=non_negative(float, "days"), default=LOOKBACK_DAYS, metavar="D",
                        help="an inference id must have been logged in the last D days (default %(default)s)")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="store the valid rows and write the refused ones beside the batch, instead of "
                             "storing nothing")
    parser.set_defaults(func=run_feedback)


def _versions(checked: Checked) -> str:
    return ", ".join(f"v{version} {count}" for version, count in checked.by_version().items())


def run_feedback(args: argparse.Namespace) -> int:
    """Run `loopline feedback`: one line for what was stored, one more for what was refused (--skip-invalid)."""
    from loopline.preflight import model_in_registry

    registry = uri_io.absolute(args.registry)
    model = args.model or model_in_registry(registry)
    result = feedback(uri_io.absolute(args.labels), model, uri_io.absolute(args.prediction_log), registry,
                      args.lookback_days, args.skip_invalid)
    checked, batch = result.checked, result.batch
    stored = (f"({_versions(checked)}) in {batch.uri}" if batch.rows else "(every row was refused)")
    print(f"{output.PREFIX}: feedback: stored {batch.rows} label{'' if batch.rows == 1 else 's'} for {model} "
          f"{stored}")
    if batch.refused_uri:
        print(f"{output.PREFIX}: feedback: {checked.summary()}; all of them written to {batch.refused_uri}")
    return 0
