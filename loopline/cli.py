"""The `loopline` command: run and compile pipelines, manage models, serve, predict, generate data, use KFP.

Every subcommand module adds its own parser; heavy libraries (pandas, TensorFlow, TFDV, kfp) are
imported only by the verbs that use them, so `loopline --help` starts fast. Failures the user can act
on are caught here, once: one line on stderr with one prefix, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from components.errors import LooplineError
from loopline import feedback, generate, lifecycle, models, monitor, output, predict, run, serve
from loopline.kfp import commands as kfp_commands

USER_ERROR_EXIT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="loopline", description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 done; 1 a run, check or request failed; 2 a usage or "
                                            "input error (one line on stderr).")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (run, generate, models, serve, predict, monitor, feedback, lifecycle, kfp_commands):
        module.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `loopline` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LooplineError, OSError) as exc:
        print(f"{output.PREFIX}: error: {output.one_line(exc) or type(exc).__name__}", file=sys.stderr)
        return USER_ERROR_EXIT


if __name__ == "__main__":
    sys.exit(main())
