"""validate's reports for the KFP UI: a Markdown summary and one self-contained HTML page.

Both are pure functions of a `ValidationResult` and draw the same content (`report_content`). The
HTML page works offline (inline CSS and SVG only; its per-feature statistics are `statistics_html`)
and ends with TFDV's own Facets view, which needs the internet to draw anything.
"""

from __future__ import annotations

import html

from tensorflow_data_validation.utils import display_util

from components import keys
from components.lib import markdown
from components.validate import report_content as content
from components.validate.checks import ValidationResult
from components.validate.report_content import ALERT, Cell, Table
from components.validate.statistics_html import statistics_html

# --- Markdown ---------------------------------------------------------------------------------


def _markdown_cell(cell: Cell) -> str:
    return f"**{markdown.cell(cell.text)} {ALERT}**" if cell.alert else markdown.cell(cell.text)


def render_markdown(result: ValidationResult) -> str:
    """The validation summary as Markdown, for a KFP `dsl.Markdown` artifact."""
    lines = ["# Data validation", "", f"**{content.verdict(result)}**: {markdown.cell(result.reason)}", ""]
    lines += [f"- **{label}:** {markdown.cell(value)}" for label, value in content.facts(result)]
    for table in content.tables(result):
        lines += ["", f"## {table.title}", ""]
        if not table.rows:
            lines.append(table.empty)
            continue
        lines += markdown.table(table.headers, ([_markdown_cell(c) for c in row] for row in table.rows))
        if table.note:
            lines += ["", markdown.cell(table.note)]
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------------------------

_CSS = (
    "\n"
    'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;'
    "color:#202124;font-size:14px}\n"
    "h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}\n"
    "table{border-collapse:collapse;margin:4px 0}th,td{border:1px solid #dadce0;padding:4px 8px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f1f3f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.facts th{background:none;border:none;padding:2px 12px 2px 0}table.facts td{border:none;padding:2px 0}\n"
    ".banner{padding:12px 16px;border-radius:6px;margin:8px 0 12px;font-size:15px}.banner b{font-size:18px;"
    "margin-right:8px}\n"
    ".ok{background:#e6f4ea;border:1px solid #34a853;color:#137333}.bad{background:#fce8e6;"
    "border:1px solid #ea4335;color:#a50e0e}\n"
    "td.alert{color:#a50e0e;font-weight:700;background:#fce8e6}.muted,.gap{color:#80868b;font-style:italic}\n"
    ".note{color:#5f6368;font-size:13px}th.feat{background:#fff;white-space:nowrap}"
    "tr.eval td,tr.eval th{border-top-style:dashed}\n"
    ".key{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}\n"
    ".train.key,.bar.train{background:#3b6fb6}.eval.key,.bar.eval{background:#e8833a}\n"
    "svg.hist rect.train{fill:#3b6fb6;fill-opacity:.55}svg.hist rect.eval{fill:#e8833a;fill-opacity:.55}\n"
    "svg.hist text{font-size:10px;fill:#5f6368}svg.hist line{stroke:#9aa0a6}\n"
    "table.top td,table.top th{border:none;padding:1px 6px;font-size:12px}table.top td.v{max-width:220px;"
    "overflow-wrap:anywhere}\n"
    ".barbox{display:inline-block;width:90px;height:9px;background:#f1f3f4;margin-right:6px;vertical-align:middle}\n"
    ".bar{display:block;height:9px}\n"
)


def _td(cell: Cell) -> str:
    if cell.alert:
        return f'<td class="alert">{html.escape(cell.text)} {ALERT}</td>'
    return f"<td>{html.escape(cell.text)}</td>"


def _html_table(table: Table) -> str:
    if not table.rows:
        return f"<h2>{table.title}</h2><p>{html.escape(table.empty)}</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join(f"<tr>{''.join(_td(c) for c in row)}</tr>" for row in table.rows)
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return f"<h2>{table.title}</h2><table><tr>{head}</tr>{body}</table>{note}"


def _facets_html(result: ValidationResult) -> str:
    """TFDV's Facets Overview of train vs eval, embedded as TFDV renders it."""
    facets = display_util.get_statistics_html(
        lhs_statistics=result.statistics[keys.TRAIN],
        rhs_statistics=result.statistics[keys.EVAL],
        lhs_name=keys.TRAIN,
        rhs_name=keys.EVAL,
    )
    return (
        '<section id="facets"><h2>TFDV Facets view (needs the internet)</h2>'
        '<p class="note">This view loads the Facets web components from the internet '
        "(cdnjs.cloudflare.com, raw.githubusercontent.com); offline, or where they are blocked, it stays blank. "
        f"The tables above are its offline equivalent.</p>{facets}</section>"
    )


def render_html(result: ValidationResult) -> str:
    """The validation report as one HTML page, for a KFP `dsl.HTML` artifact; all but Facets works offline."""
    banner = "ok" if result.data_ok else "bad"
    verdict = content.verdict(result)
    facts = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in content.facts(result))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Data validation: {verdict}</title><style>{_CSS}</style></head><body>"
        "<h1>Data validation</h1>"
        f'<div class="banner {banner}"><b>{verdict}</b>{html.escape(result.reason)}</div>'
        f'<table class="facts">{facts}</table>'
        + "".join(_html_table(table) for table in content.tables(result))
        + statistics_html(result)
        + _facets_html(result)
        + "</body></html>"
    )
