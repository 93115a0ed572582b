"""Argument types shared by the `loopline` subcommands."""

from __future__ import annotations

import argparse
from typing import Callable


def non_negative(convert: Callable[[str], float], noun: str) -> Callable[[str], float]:
    """An argparse type: `convert(text)` when it is a number >= 0, else a message naming `noun`."""
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(f"expected {noun} >= 0, got {text!r}")
        return value

    return parse


whole_number = non_negative(int, "a whole number")  # counts such as --rows 10_000_000
seconds = non_negative(float, "seconds")
