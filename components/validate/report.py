"""validate's reports for the KFP UI: a Markdown summary and one self-contained HTML page.

Both are pure functions of a `ValidationResult`. The HTML page works offline (inline CSS and
SVG only) and ends with TFDV's own Facets view, which needs the internet to draw anything.
"""

from __future__ import annotations

import html
import math
from typing import Callable, Iterable, NamedTuple, Sequence

from tensorflow_data_validation.utils import display_util
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from components import keys
from components.validate.checks import ValidationResult

Feature = statistics_pb2.FeatureNameStatistics
Measurement = anomalies_pb2.DriftSkewInfo.Measurement

DASH = "—"
ALERT = "⚠"
TOP_VALUES = 10
HIST_W, HIST_H = 240, 56
MEASURES = {
    Measurement.L_INFTY: "L-infinity",
    Measurement.JENSEN_SHANNON_DIVERGENCE: "Jensen-Shannon",
    Measurement.NORMALIZED_ABSOLUTE_DIFFERENCE: "normalized absolute difference",
}
NUMERIC_HEADERS = ("count", "missing", "mean", "std dev", "min", "median", "max", "zeros")
CATEGORICAL_HEADERS = ("count", "missing", "unique")


class Cell(NamedTuple):
    """One table cell's text, and whether it is a value above its threshold."""

    text: str
    alert: bool = False


class Table(NamedTuple):
    """A report table both renderers draw: rows of cells, or a sentence when there are none."""

    title: str
    headers: Sequence[str]
    rows: list[list[Cell]]
    empty: str
    note: str = ""


def _num(value: float) -> str:
    return f"{value:.4g}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else DASH


def _verdict(result: ValidationResult) -> str:
    return "Data OK" if result.data_ok else "Data NOT OK"


def _feature_name(feature: Feature) -> str:
    return ".".join(feature.path.step) or feature.name


def _features(result: ValidationResult, split: str) -> dict[str, Feature]:
    """A split's feature statistics by name (its first dataset: validate computes one, unsliced)."""
    return {_feature_name(f): f for f in result.statistics[split].datasets[0].features}


def _facts(result: ValidationResult) -> list[tuple[str, str]]:
    """The run's context, shown under the decision."""
    rows = ", ".join(
        f"{split} {result.statistics[split].datasets[0].num_examples:,}" for split in keys.SPLITS
    )
    return [
        ("Schema source", result.schema_source),
        ("Statistics engine", result.engine),
        ("Drift baseline", result.baseline_uri or "none (drift not checked)"),
        ("Rows", rows),
    ]


def _measure_cells(measurement: Measurement | None) -> list[Cell]:
    if measurement is None:
        return [Cell(DASH), Cell(DASH)]
    above = measurement.value > measurement.threshold
    return [Cell(_num(measurement.value), above), Cell(_num(measurement.threshold))]


def _drift_rows(result: ValidationResult) -> list[list[Cell]]:
    """One row per feature and measure, drift (vs the baseline) beside skew (train vs eval)."""
    rows = []
    for info in result.anomalies[keys.TRAIN].drift_skew_info:
        drift = {m.type: m for m in info.drift_measurements}
        skew = {m.type: m for m in info.skew_measurements}
        for measure in sorted(drift.keys() | skew.keys()):
            rows.append(
                [
                    Cell(".".join(info.path.step)),
                    Cell(MEASURES.get(measure, Measurement.Type.Name(measure))),
                    *_measure_cells(drift.get(measure)),
                    *_measure_cells(skew.get(measure)),
                ]
            )
    return rows


def _tables(result: ValidationResult) -> list[Table]:
    """The anomalies and drift/skew tables, shared by the Markdown and the HTML report."""
    anomalies = [[Cell(r.split), Cell(r.feature), Cell(r.short), Cell(r.description)] for r in result.rows]
    return [
        Table(
            "Anomalies",
            ("split", "feature", "anomaly", "description"),
            anomalies,
            "No anomalies: every split matches the schema.",
        ),
        Table(
            "Drift and skew",
            ("feature", "measure", "drift value", "drift threshold", "skew value", "skew threshold"),
            _drift_rows(result),
            "Nothing measured: drift needs a baseline, skew a threshold above 0.",
            f"{ALERT} marks a value above its threshold. Drift compares train with the baseline, "
            "skew compares train with eval.",
        ),
    ]


# --- Markdown ---------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe in a Markdown table cell: HTML escaped, `|` escaped, newlines as `<br>`."""
    return "<br>".join(html.escape(text, quote=False).replace("|", "\\|").splitlines())


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_cell(cell: Cell) -> str:
    return f"**{_md(cell.text)} {ALERT}**" if cell.alert else _md(cell.text)


def render_markdown(result: ValidationResult) -> str:
    """The validation summary as Markdown, for a KFP `dsl.Markdown` artifact."""
    lines = ["# Data validation", "", f"**{_verdict(result)}**: {_md(result.reason)}", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in _facts(result)]
    for table in _tables(result):
        lines += ["", f"## {table.title}", ""]
        if not table.rows:
            lines.append(table.empty)
            continue
        lines += [_md_row(table.headers), _md_row("---" for _ in table.headers)]
        lines += [_md_row(_md_cell(c) for c in row) for row in table.rows]
        if table.note:
            lines += ["", _md(table.note)]
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#202124;font-size:14px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:4px 0}th,td{border:1px solid #dadce0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{background:none;border:none;padding:2px 12px 2px 0}table.facts td{border:none;padding:2px 0}
.banner{padding:12px 16px;border-radius:6px;margin:8px 0 12px;font-size:15px}.banner b{font-size:18px;margin-right:8px}
.ok{background:#e6f4ea;border:1px solid #34a853;color:#137333}.bad{background:#fce8e6;border:1px solid #ea4335;color:#a50e0e}
td.alert{color:#a50e0e;font-weight:700;background:#fce8e6}.muted,.gap{color:#80868b;font-style:italic}
.note{color:#5f6368;font-size:13px}th.feat{background:#fff;white-space:nowrap}tr.eval td,tr.eval th{border-top-style:dashed}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}
.train.key,.bar.train{background:#3b6fb6}.eval.key,.bar.eval{background:#e8833a}
svg.hist rect.train{fill:#3b6fb6;fill-opacity:.55}svg.hist rect.eval{fill:#e8833a;fill-opacity:.55}
svg.hist text{font-size:10px;fill:#5f6368}svg.hist line{stroke:#9aa0a6}
table.top td,table.top th{border:none;padding:1px 6px;font-size:12px}table.top td.v{max-width:220px;overflow-wrap:anywhere}
.barbox{display:inline-block;width:90px;height:9px;background:#f1f3f4;margin-right:6px;vertical-align:middle}
.bar{display:block;height:9px}
"""


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


def _standard_buckets(feature: Feature) -> list[statistics_pb2.Histogram.Bucket]:
    """The equal-width histogram's finite buckets (an infinite bound cannot be drawn)."""
    for histogram in feature.num_stats.histograms:
        if histogram.type == statistics_pb2.Histogram.STANDARD:
            return [b for b in histogram.buckets if math.isfinite(b.low_value + b.high_value)]
    return []


def _histogram_svg(features: dict[str, Feature]) -> str:
    """Train and eval histograms overlaid as densities on one axis, so different row counts compare."""
    buckets = {s: _standard_buckets(f) for s, f in features.items()}
    buckets = {s: b for s, b in buckets.items() if sum(x.sample_count for x in b) > 0}
    if not buckets:
        return '<span class="muted">no values</span>'
    lo = min(b.low_value for bs in buckets.values() for b in bs)
    hi = max(b.high_value for bs in buckets.values() for b in bs)
    if hi <= lo:  # a constant feature: give its single value some room
        lo, hi = lo - 0.5, hi + 0.5
    min_width = (hi - lo) / 60
    bars = []
    for split, split_buckets in buckets.items():
        total = sum(b.sample_count for b in split_buckets)
        for b in split_buckets:
            width = max(b.high_value - b.low_value, min_width)
            left = (b.low_value + b.high_value - width) / 2
            bars.append((split, left, width, b.sample_count / total / width, b))
    top = max(density for _, _, _, density, _ in bars)
    scale = HIST_W / (hi - lo)
    rects = "".join(
        f'<rect class="{split}" x="{(left - lo) * scale:.1f}" y="{HIST_H * (1 - density / top):.1f}" '
        f'width="{max(width * scale, 1):.1f}" height="{HIST_H * density / top:.1f}">'
        f"<title>{split}: {_num(b.low_value)} to {_num(b.high_value)}, {_num(b.sample_count)} values</title></rect>"
        for split, left, width, density, b in bars
    )
    return (
        f'<svg class="hist" width="{HIST_W}" height="{HIST_H + 14}" viewBox="0 0 {HIST_W} {HIST_H + 14}" '
        f'role="img" aria-label="histogram">{rects}'
        f'<line x1="0" y1="{HIST_H}" x2="{HIST_W}" y2="{HIST_H}"/>'
        f'<text x="0" y="{HIST_H + 12}">{_num(lo)}</text>'
        f'<text x="{HIST_W}" y="{HIST_H + 12}" text-anchor="end">{_num(hi)}</text></svg>'
    )


def _presence_cells(common: statistics_pb2.CommonStatistics) -> list[str]:
    """Count of examples with the feature, and the share of examples without it."""
    missing = _pct(common.num_missing, common.num_non_missing + common.num_missing)
    return [f"{common.num_non_missing:,}", missing]


def _numeric_cells(feature: Feature) -> list[str]:
    stats = feature.num_stats
    common = stats.common_stats
    head = _presence_cells(common)
    if not common.num_non_missing:
        return head + [DASH] * (len(NUMERIC_HEADERS) - len(head))
    values = (stats.mean, stats.std_dev, stats.min, stats.median, stats.max)
    zeros = _pct(stats.num_zeros, common.tot_num_values or common.num_non_missing)
    return head + [_num(v) for v in values] + [zeros]


def _categorical_cells(feature: Feature) -> list[str]:
    return _presence_cells(feature.string_stats.common_stats) + [f"{feature.string_stats.unique:,}"]


def _value_shares(feature: Feature) -> tuple[dict[str, float], bool]:
    """Each value's share of the split's values, and whether every value is listed (absent means 0)."""
    stats = feature.string_stats
    counts = {b.label: b.sample_count for b in stats.rank_histogram.buckets} or {
        v.value: v.frequency for v in stats.top_values
    }
    total = stats.common_stats.tot_num_values or stats.common_stats.num_non_missing
    shares = {value: count / total for value, count in counts.items()} if total else {}
    return shares, len(counts) >= stats.unique


def _share_cell(shares: tuple[dict[str, float], bool] | None, value: str, split: str) -> str:
    if shares is None or (value not in shares[0] and not shares[1]):
        return f'<td class="n muted" title="not among this split\'s top values">{DASH}</td>'
    pct = 100 * shares[0].get(value, 0.0)
    bar = f'<span class="barbox"><span class="bar {split}" style="width:{pct:.1f}%"></span></span>'
    return f'<td class="n">{bar}{pct:.1f}%</td>'


def _top_values_html(features: dict[str, Feature]) -> str:
    """The most frequent values of either split, with train and eval shares as bars."""
    shares = {split: _value_shares(f) for split, f in features.items()}
    values = {v for split_shares, _ in shares.values() for v in split_shares}
    ranked = sorted(values, key=lambda v: (-max(s.get(v, 0.0) for s, _ in shares.values()), v))
    ranked = ranked[:TOP_VALUES]
    if not ranked:
        return '<span class="muted">no values</span>'
    head = "<tr><th>value</th>" + "".join(f"<th>{split}</th>" for split in keys.SPLITS) + "</tr>"
    rows = "".join(
        f'<tr><td class="v">{html.escape(value)}</td>'
        + "".join(_share_cell(shares.get(split), value, split) for split in keys.SPLITS)
        + "</tr>"
        for value in ranked
    )
    return f'<table class="top">{head}{rows}</table>'


def _gap(feature: Feature | None) -> str:
    if feature is None:
        return "absent from this split"
    return f"{Feature.Type.Name(feature.type)} statistics in this split"


class Section(NamedTuple):
    """A per-feature statistics table: which features (by stats kind), their cells and their figure."""

    title: str
    kind: str
    headers: Sequence[str]
    cells: Callable[[Feature], list[str]]
    figure_title: str
    figure: Callable[[dict[str, Feature]], str]


SECTIONS = (
    Section("Numeric features", "num_stats", NUMERIC_HEADERS, _numeric_cells, "histogram", _histogram_svg),
    Section("Categorical features", "string_stats", CATEGORICAL_HEADERS, _categorical_cells, "top values",
            _top_values_html),
)


def _feature_rows(name: str, by_split: dict[str, dict[str, Feature]], section: Section) -> str:
    """One row per split for a feature, its name and figure spanning them; a gap where a split lacks it."""
    features = {
        split: feature
        for split in keys.SPLITS
        if (feature := by_split[split].get(name)) is not None and feature.WhichOneof("stats") == section.kind
    }
    span = len(keys.SPLITS)
    rows = []
    for i, split in enumerate(keys.SPLITS):
        if split in features:
            tds = "".join(f'<td class="n">{html.escape(c)}</td>' for c in section.cells(features[split]))
        else:
            tds = f'<td class="gap" colspan="{len(section.headers)}">{_gap(by_split[split].get(name))}</td>'
        name_th = f'<th class="feat" rowspan="{span}">{html.escape(name)}</th>' if i == 0 else ""
        figure_td = f'<td rowspan="{span}">{section.figure(features)}</td>' if i == 0 else ""
        rows.append(f'<tr class="{split}">{name_th}<td>{split}</td>{tds}{figure_td}</tr>')
    return "".join(rows)


def _statistics_html(result: ValidationResult) -> str:
    """Per-feature statistics of train and eval, numeric and categorical features in two tables."""
    by_split = {split: _features(result, split) for split in keys.SPLITS}
    names = list(dict.fromkeys(name for features in by_split.values() for name in features))
    kinds = {
        name: {features[name].WhichOneof("stats") for features in by_split.values() if name in features}
        for name in names
    }
    legend = "".join(f'<span class="{split} key"></span>{split}' for split in keys.SPLITS)
    parts = [f"<h2>Feature statistics</h2><p>Colours:{legend}</p>"]
    for section in SECTIONS:
        selected = [name for name in names if section.kind in kinds[name]]
        if not selected:
            continue
        head = "".join(f"<th>{h}</th>" for h in ("feature", "split", *section.headers, section.figure_title))
        body = "".join(_feature_rows(name, by_split, section) for name in selected)
        parts.append(f"<h3>{section.title}</h3><table><tr>{head}</tr>{body}</table>")
    other = [name for name in names if not kinds[name] & {"num_stats", "string_stats"}]
    if other:
        listed = ", ".join(html.escape(name) for name in other)
        parts.append(f'<p class="note">Bytes or struct features, shown only in the Facets view: {listed}.</p>')
    return "".join(parts)


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
    facts = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in _facts(result))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Data validation: {_verdict(result)}</title><style>{_CSS}</style></head><body>"
        "<h1>Data validation</h1>"
        f'<div class="banner {banner}"><b>{_verdict(result)}</b>{html.escape(result.reason)}</div>'
        f'<table class="facts">{facts}</table>'
        + "".join(_html_table(table) for table in _tables(result))
        + _statistics_html(result)
        + _facets_html(result)
        + "</body></html>"
    )
