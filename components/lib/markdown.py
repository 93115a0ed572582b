"""Markdown tables for the reports the KFP UI shows (`dsl.Markdown` artifacts): escape a cell, a row, a table.

Every report builds its tables with these helpers, so text from the data (a category named
`<script>`, a value holding `|` or a newline) is escaped the same way everywhere and cannot break
a table or inject HTML. Plain Python, no kfp.
"""

from __future__ import annotations

import html
from typing import Iterable, Sequence

# Separator cells by column alignment: "l" is Markdown's default (left), "r" right-aligns numbers.
_SEPARATORS = {"l": "---", "r": "---:"}


def cell(text: object) -> str:
    """`text` (made a string) safe in a Markdown table cell: HTML escaped, `|` escaped, newlines as `<br>`."""
    return "<br>".join(html.escape(str(text), quote=False).replace("|", "\\|").splitlines())


def row(cells: Iterable[str]) -> str:
    """One table row of cells already in Markdown: `| a | b |`."""
    return "| " + " | ".join(cells) + " |"


def table(headers: Sequence[str], rows: Iterable[Iterable[str]], align: str = "") -> list[str]:
    """A table's lines: the header row, the separator row, then `rows`.

    `headers` are plain text (escaped here); `rows` hold cells already in Markdown (escape text with
    `cell`). `align` has one letter per column, "l" or "r"; columns it does not cover are "l".
    """
    if len(align) > len(headers) or set(align) - set(_SEPARATORS):
        raise ValueError(f"align must be at most {len(headers)} letters from 'l', 'r'; got {align!r}")
    separators = [_SEPARATORS[a] for a in align.ljust(len(headers), "l")]
    return [row(cell(h) for h in headers), row(separators), *(row(r) for r in rows)]
