"""Argument types shared by the `loopline` subcommands: each parses one option's text or names what is wrong."""

from __future__ import annotations

import argparse
import json
import math
import re
from typing import Any, Callable

INTERVAL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


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


def names(text: str) -> list[str]:
    """A comma-separated list of column names (blanks dropped)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def assignment(text: str) -> tuple[str, float]:
    """`KEY=NUMBER` (a floor such as min_accuracy=0.9, a shift such as body_mass_g=600)."""
    key, _, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not key.strip() or math.isnan(number):
        raise argparse.ArgumentTypeError(f"expected KEY=NUMBER, got {text!r}")
    return key.strip(), number


def parameter(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` for a pipeline parameter; the value JSON-decoded when it parses, else the text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(raw)
    except ValueError:
        return key.strip(), raw


def version_number(text: str) -> int:
    """A registry version: a whole number >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a version number: {text!r}")
    return int(text)


def interval(text: str) -> int:
    """A positive duration in seconds: 3600, 90s, 30m, 6h or 1d."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive duration such as 3600, 90s, 30m, 6h or 1d, got {text!r}")
    return int(match.group(1)) * INTERVAL_UNITS[match.group(2)]


def concurrency(text: str) -> int:
    """Runs at once for a recurring run: 1-10 (KFP's limit)."""
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise argparse.ArgumentTypeError(f"must be 1-10 (KFP's limit), got {text!r}")
    return int(text)
