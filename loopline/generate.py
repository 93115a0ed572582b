"""`loopline generate`: penguin-like data of any size, with optional injected problems (loopline/synthetic.py).

The generator (numpy, pandas, pyarrow) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from components.errors import LooplineInputError
from loopline import paths
from loopline.arguments import assignment, names, whole_number


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` subcommand to the ``loopline`` command."""
    parser = subparsers.add_parser(
        "generate",
        help="write penguin-like data of any size, optionally with injected problems",
        description="Write penguin-like rows drawn from a profile of the reference data, "
                    "in chunks (bounded memory), deterministically for a given seed.",
    )
    parser.add_argument("--rows", type=whole_number, default=1000, help="rows to write (default 1000)")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    parser.add_argument("--format", metavar="csv|parquet", help="default: parquet for a .parquet suffix, else csv")
    parser.add_argument("--seed", type=whole_number, default=0, help="random seed (default 0)")
    for option, metavar, text in (
        ("--shift", "FEATURE=AMOUNT", "add AMOUNT to a numeric feature"),
        ("--unseen", "COLUMN=FRACTION", "replace a FRACTION of a string column with unseen values"),
        ("--corrupt", "COLUMN=FRACTION", "replace a FRACTION of a numeric column with non-numeric text"),
    ):
        parser.add_argument(option, type=assignment, action="append", default=[], metavar=metavar,
                            help=f"{text} (repeatable)")
    parser.add_argument("--species-mix", type=assignment, action="append", default=[], metavar="SPECIES=WEIGHT",
                        help="draw species by these weights instead of the reference's shares (a label shift; "
                             "unnamed species get 0; repeatable)")
    parser.add_argument("--no-label", action="store_true",
                        help="leave the label column out: rows to send to a served model")
    parser.add_argument("--missing-rate", type=float, default=0.0, metavar="R",
                        help="fraction of cells left empty in --missing-columns (default 0)")
    parser.add_argument("--missing-columns", type=names, metavar="A,B",
                        help="columns that may be empty (default: all but species)")
    parser.add_argument("--reference", type=Path, default=paths.BUNDLED_DATA,
                        help="real data to fit the profile to (default: the bundled penguins.csv)")
    parser.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """Run ``loopline generate``: progress on stderr for multi-chunk outputs, a one-line summary on stdout."""
    from loopline import synthetic

    fmt = args.format or ("parquet" if args.out.suffix.lower() == ".parquet" else "csv")
    if fmt not in synthetic.FORMATS:
        raise LooplineInputError(f"--format must be one of {', '.join(synthetic.FORMATS)}, got {fmt!r}")
    try:
        problems = synthetic.Problems(
            shift=dict(args.shift), unseen=dict(args.unseen), missing_rate=args.missing_rate,
            missing_columns=synthetic.MISSING_DEFAULT if args.missing_columns is None else tuple(args.missing_columns),
            corrupt=dict(args.corrupt), species_mix=dict(args.species_mix))
        profile = synthetic.fit_profile(args.reference)
        result = synthetic.generate(profile, args.rows, args.out, fmt, args.seed, problems,
                                    synthetic.report_progress if args.rows > synthetic.CHUNK_ROWS else None,
                                    label=not args.no_label)
    except ValueError as error:
        raise LooplineInputError(str(error)) from error
    print(f"wrote {result.path} ({fmt}): {result.rows:,} rows in {result.seconds:.1f} s "
          f"({result.rows_per_second:,.0f} rows/s)")
    return 0
