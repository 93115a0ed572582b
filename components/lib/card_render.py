"""A model card's two printers: the same blocks as Markdown (the KFP UI's dsl.Markdown) and as one self-contained
HTML page (inline CSS and SVG, a Content-Security-Policy forbidding every load: it opens offline and prints).
Every value is escaped on the way out. Plain Python."""

from __future__ import annotations

import html
import re
from typing import Iterable

from components.lib import markdown
from components.lib.card_blocks import (
    CODE,
    MUTED,
    STRONG,
    Bar,
    Block,
    Cell,
    Facts,
    Heading,
    Items,
    Section,
    Styled,
    Text,
)

NOT_RECORDED = "not recorded"
BAR_WIDTH = 240  # pixels of a full importance bar in the HTML
MD_BAR = 20  # characters of a full importance bar in the Markdown
_CODE_SAFE = re.compile(r"[\w.:/+@=~-]+")  # text shown as Markdown code as is (hashes, versions, plain URIs)
_MD_SPECIALS = re.compile(r"([\\`*\[\]])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def verdict_text(approved: bool | None) -> str:
    return {True: "approved", False: "rejected", None: f"evaluation {NOT_RECORDED}"}[approved]


# --- Markdown ---------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe in Markdown (tables or not): HTML and `|` escaped (markdown.cell), emphasis and code marks too."""
    return _MD_SPECIALS.sub(lambda m: "\\" + m.group(0), markdown.cell(text))


def _md_styled(cell: Styled) -> str:
    if cell.style == CODE:
        return f"`{cell.text}`" if _CODE_SAFE.fullmatch(cell.text) else _md(cell.text)
    return ("**{}**" if cell.style == STRONG else "*{}*").format(_md(cell.text))


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Styled):
        return _md_styled(cell)
    if isinstance(cell, Bar):
        return ("░" if cell.negative else "█") * max(1, round(cell.fraction * MD_BAR)) if cell.fraction > 0 else ""
    return _md(cell)


def _md_value(value: Cell | tuple[Cell, ...]) -> str:
    return ", ".join(_md_cell(v) for v in value) if isinstance(value, tuple) else _md_cell(value)


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        return [f"### {_md(block.text)}"]
    if isinstance(block, Text):
        return [_md_cell(block.text)]
    if isinstance(block, Items):
        return [f"- {_md(item)}" for item in block.items]
    if isinstance(block, Facts):
        return [f"- **{_md(label)}:** {_md_value(value)}" for label, value in block.items]
    return markdown.table(block.headers, ([_md_cell(c) for c in row] for row in block.rows), block.align)


def to_markdown(title: str, subtitle: str, approved: bool | None, sections: Iterable[Section]) -> str:
    lines = [f"# {_md(title)}", "", f"{_md(subtitle)} Decision: **{verdict_text(approved)}**."]
    for number, section in enumerate(sections, start=1):
        lines += ["", f"## {number}. {_md(section.title)}"]
        for block in section.blocks:
            lines += ["", *_md_block(block)]
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _bar_svg(bar: Bar) -> str:
    width = max(0.0, min(1.0, bar.fraction)) * BAR_WIDTH
    fill = "neg" if bar.negative else "fill"
    return (f'<svg class="bar" width="{BAR_WIDTH}" height="14" viewBox="0 0 {BAR_WIDTH} 14" role="img" '
            f'aria-label="{bar.fraction:.0%}"><rect class="track" width="{BAR_WIDTH}" height="14" rx="3"/>'
            f'<rect class="{fill}" width="{width:.1f}" height="14" rx="3"/></svg>')


_HTML_STYLES = {STRONG: "<strong>{}</strong>", MUTED: '<span class="absent">{}</span>', CODE: "<code>{}</code>"}


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Styled):
        return _HTML_STYLES[cell.style].format(_esc(cell.text))
    if isinstance(cell, Bar):
        return _bar_svg(cell)
    return "<br>".join(_esc(line) for line in cell.splitlines())


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h3>{_esc(block.text)}</h3>"
    if isinstance(block, Text):
        return f"<p>{_html_cell(block.text)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{_esc(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Facts):
        items = "".join(
            f"<dt>{_esc(label)}</dt><dd>"
            + ("<br>".join(_html_cell(v) for v in value) if isinstance(value, tuple) else _html_cell(value))
            + "</dd>" for label, value in block.items)
        return f'<dl class="facts">{items}</dl>'
    align = block.align.ljust(len(block.headers), "l")
    head = "".join(f'<th class="{"num" if a == "r" else "text"}">{_esc(h)}</th>' for h, a in zip(block.headers, align))
    body = "".join("<tr>" + "".join(f'<td class="{"num" if a == "r" else "text"}">{_html_cell(c)}</td>'
                                    for c, a in zip(row, align)) + "</tr>\n" for row in block.rows)
    name = f' class="{_esc(block.name)}"' if block.name else ""
    return f'<div class="table"><table{name}><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table></div>'


_CSS = """
*{box-sizing:border-box}
html{background:#eef1f5}
body{margin:0;color:#1f2933;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
"DejaVu Sans",sans-serif}
main{max-width:1060px;margin:28px auto;background:#fff;padding:36px 56px 48px;border:1px solid #d5dbe3;
border-radius:6px;box-shadow:0 1px 3px rgba(16,42,67,.08)}
header{border-bottom:3px solid #1f4e79;padding-bottom:14px}
h1{font-size:28px;line-height:1.25;margin:0 0 6px;color:#102a43;overflow-wrap:anywhere}
.subtitle{margin:0;color:#3e4c59}
.badge{display:inline-block;margin-left:8px;padding:1px 10px;border-radius:999px;font-size:13px;font-weight:600;
vertical-align:1px}
.badge.approved{background:#e3f4e8;color:#1d6b34;border:1px solid #9fd4ad}
.badge.rejected{background:#fde8e8;color:#9b1c1c;border:1px solid #f1a7a7}
.badge.unknown{background:#f0f2f5;color:#52606d;border:1px solid #cbd2d9}
nav{margin:14px 0 0;font-size:14px;color:#52606d}
nav ol{margin:4px 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px}
nav a{color:#1f4e79;text-decoration:none}
h2{font-size:21px;color:#1f4e79;margin:36px 0 10px;padding-bottom:4px;border-bottom:1px solid #d5dbe3}
h2 .n{color:#829ab1;margin-right:6px}
h3{font-size:16px;margin:22px 0 6px;color:#243b53}
p{margin:6px 0 10px}
ul{margin:6px 0 10px;padding-left:22px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:8px 0 14px}
dt{font-weight:600;color:#52606d}
dd{margin:0;overflow-wrap:anywhere}
.table{display:inline-block;vertical-align:top;max-width:100%;overflow-x:auto;margin:6px 28px 16px 0}
table{border-collapse:collapse;font-size:14px}
th,td{border:1px solid #d5dbe3;padding:4px 10px;vertical-align:top}
th{background:#e9eef5;font-weight:600;text-align:left;color:#243b53}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even) td{background:#f8fafc}
table.confusion td strong{color:#1d6b34}
td code{overflow-wrap:break-word}
.table:has(table.events){display:block}
table.events{table-layout:fixed;width:100%;font-size:13px}
table.events td{overflow-wrap:anywhere}
table.events th:nth-child(1){width:15%}table.events th:nth-child(2){width:11%}
table.events th:nth-child(3){width:17%}table.events th:nth-child(5){width:8%}
table.windows td:first-child{white-space:nowrap}
code{font:13px ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere;
color:#243b53}
.absent{color:#7b8794;font-style:italic}
svg.bar{display:block;margin-top:3px}
svg.bar .track{fill:#edf1f6}
svg.bar .fill{fill:#2f6fad}
svg.bar .neg{fill:#c2571a}
footer{margin-top:36px;padding-top:8px;border-top:1px solid #d5dbe3;font-size:12px;color:#7b8794}
@page{margin:16mm}
@media print{html{background:#fff}body{font-size:10.5pt}
main{margin:0;padding:0;max-width:none;border:0;box-shadow:none}nav{display:none}
h2,h3{break-after:avoid}table,dl,svg,tr{break-inside:avoid}.table{overflow:visible}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

# Belt and braces: the page loads nothing, and the browser is told to refuse it if it ever tried.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def to_html(title: str, subtitle: str, approved: bool | None, sections: list[Section]) -> str:
    badge = {True: "approved", False: "rejected", None: "unknown"}[approved]
    toc = "".join(f'<li><a href="#{s.id}">{n}. {_esc(s.title)}</a></li>' for n, s in enumerate(sections, start=1))
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>", "</head>", "<body>", "<main>",
        f'<header><h1>{_esc(title)}</h1><p class="subtitle">{_esc(subtitle)}'
        f'<span class="badge {badge}">{_esc(verdict_text(approved))}</span></p>'
        f'<nav aria-label="sections"><ol>{toc}</ol></nav></header>',
    ]
    for number, section in enumerate(sections, start=1):
        parts.append(f'<section id="{section.id}"><h2><span class="n">{number}.</span>{_esc(section.title)}</h2>')
        parts += [_html_block(block) for block in section.blocks]
        parts.append("</section>")
    parts += ["<footer>A loopline model card: rendered from the registry's record of this version.</footer>",
              "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
