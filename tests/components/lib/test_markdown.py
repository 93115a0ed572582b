"""The shared Markdown table helpers: escaping, rows, tables and their alignment."""

from __future__ import annotations

import pytest

from components.lib import markdown


def test_cell_escapes_html_pipes_and_newlines() -> None:
    assert markdown.cell("<b>a|b</b>\nnext") == "&lt;b&gt;a\\|b&lt;/b&gt;<br>next"
    assert markdown.cell(1.5) == "1.5"
    assert markdown.cell('"quoted" & more') == '"quoted" &amp; more'


def test_table_has_header_separator_and_rows() -> None:
    lines = markdown.table(("name", "a|b", "n"), [["x", "y", "1"]], align="llr")
    assert lines == ["| name | a\\|b | n |", "| --- | --- | ---: |", "| x | y | 1 |"]
    assert markdown.table(("a", "b"), [])[1] == "| --- | --- |"  # unaligned columns are left


@pytest.mark.parametrize("align", ["lll", "lc"])
def test_table_refuses_a_bad_alignment(align: str) -> None:
    with pytest.raises(ValueError, match="align must be"):
        markdown.table(("a", "b"), [], align=align)
