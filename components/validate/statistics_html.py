"""The per-feature statistics section of validate's HTML page: train beside eval, with their figures.

Numeric features get a table of summary figures and an inline SVG histogram of both splits;
categorical ones their counts and the most frequent values as share bars. Everything is drawn
from TFDV's statistics protos with inline HTML and SVG only, so the section works offline.
"""

from __future__ import annotations

import html
import math
from typing import Callable, NamedTuple, Sequence

from tensorflow_metadata.proto.v0 import statistics_pb2

from components import keys
from components.validate.checks import ValidationResult
from components.validate.report_content import DASH, Feature, number, percent, split_features

TOP_VALUES = 10
HIST_W, HIST_H = 240, 56
NUMERIC_HEADERS = ("count", "missing", "mean", "std dev", "min", "median", "max", "zeros")
CATEGORICAL_HEADERS = ("count", "missing", "unique")


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
        f"<title>{split}: {number(b.low_value)} to {number(b.high_value)}, "
        f"{number(b.sample_count)} values</title></rect>"
        for split, left, width, density, b in bars
    )
    return (
        f'<svg class="hist" width="{HIST_W}" height="{HIST_H + 14}" viewBox="0 0 {HIST_W} {HIST_H + 14}" '
        f'role="img" aria-label="histogram">{rects}'
        f'<line x1="0" y1="{HIST_H}" x2="{HIST_W}" y2="{HIST_H}"/>'
        f'<text x="0" y="{HIST_H + 12}">{number(lo)}</text>'
        f'<text x="{HIST_W}" y="{HIST_H + 12}" text-anchor="end">{number(hi)}</text></svg>'
    )


def _presence_cells(common: statistics_pb2.CommonStatistics) -> list[str]:
    """Count of examples with the feature, and the share of examples without it."""
    missing = percent(common.num_missing, common.num_non_missing + common.num_missing)
    return [f"{common.num_non_missing:,}", missing]


def _numeric_cells(feature: Feature) -> list[str]:
    stats = feature.num_stats
    common = stats.common_stats
    head = _presence_cells(common)
    if not common.num_non_missing:
        return head + [DASH] * (len(NUMERIC_HEADERS) - len(head))
    values = (stats.mean, stats.std_dev, stats.min, stats.median, stats.max)
    zeros = percent(stats.num_zeros, common.tot_num_values or common.num_non_missing)
    return head + [number(v) for v in values] + [zeros]


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


def statistics_html(result: ValidationResult) -> str:
    """Per-feature statistics of train and eval, numeric and categorical features in two tables."""
    by_split = {split: split_features(result, split) for split in keys.SPLITS}
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
