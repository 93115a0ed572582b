"""The blocks a model card is made of (facts, tables, text, bars, sections), apart from the sections that fill
them (`model_card`) and the two printers that render them (`card_render`: Markdown and HTML). Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

STRONG, CODE, MUTED = "strong", "code", "muted"


@dataclass(frozen=True)
class Styled:
    """Text in a style: STRONG stands out (a decision, the diagonal of a confusion matrix), CODE is monospace
    (hashes, URIs, versions), MUTED says something is absent ("not recorded")."""

    text: str
    style: str


def strong(text: str) -> Styled:
    """Text that stands out."""
    return Styled(text, STRONG)


def code(text: str) -> Styled:
    """Text in monospace."""
    return Styled(text, CODE)


def muted(text: str) -> Styled:
    """Text saying something is absent."""
    return Styled(text, MUTED)


@dataclass(frozen=True)
class Bar:
    """A horizontal bar: `fraction` of the full width; `negative` draws it in the other colour."""

    fraction: float
    negative: bool = False


Cell = Union[str, Styled, Bar]


@dataclass(frozen=True)
class Facts:
    """Label: value pairs; a value may be several cells (one per line)."""

    items: tuple[tuple[str, Cell | tuple[Cell, ...]], ...]


@dataclass(frozen=True)
class Table:
    """A table: plain-text headers, rows of cells, one alignment letter ("l"/"r") per column; `name` its class."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    align: str = ""
    name: str = ""


@dataclass(frozen=True)
class Text:
    """A paragraph (its line breaks kept)."""

    text: Cell


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str


Block = Union[Facts, Table, Text, Items, Heading]


@dataclass(frozen=True)
class Section:
    """One numbered section of the card."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Card:
    """A rendered model card: the HTML page and its Markdown twin."""

    markdown: str
    html: str
