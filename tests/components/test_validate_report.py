"""validate's reports: Markdown and HTML rendered from real TFDV statistics and anomalies."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tensorflow_data_validation as tfdv

from components import keys
from components.validate import checks
from components.validate.report import render_html, render_markdown
from components.validate.statistics import in_memory_statistics

EVIL = "<script>alert(1)</script>"
FACETS = '<section id="facets">'
CLEAN = {"x": [float(i) for i in range(40)], "species": ["Adelie", "Gentoo"] * 20}


def _stats(tmp: Path, name: str, columns: dict) -> checks.Stats:
    path = tmp / f"{name}.parquet"
    pq.write_table(pa.table(columns), path)
    return in_memory_statistics([str(path)])


def _result(
    train: checks.Stats, evaluation: checks.Stats, baseline: checks.Stats | None = None, curated: bool = False
):
    """Validate; `curated` checks against a schema of train alone (an inferred one would absorb eval's values)."""
    statistics = {keys.TRAIN: train, keys.EVAL: evaluation}
    schema = tfdv.infer_schema(train) if curated else None
    schema, anomalies, rows = checks.validate(statistics, schema, checks.Thresholds(), baseline=baseline)
    return checks.ValidationResult(
        statistics=statistics,
        schema=schema,
        anomalies=anomalies,
        schema_source="inferred",
        baseline_uri="/baseline/train.stats.pb" if baseline else "",
        engine="in_memory",
        rows=rows,
    )


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> checks.ValidationResult:
    stats = _stats(tmp_path_factory.mktemp("clean"), "train", CLEAN)
    return _result(stats, stats)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> checks.ValidationResult:
    """Eval has unseen categories (one of them hostile), a new column and lacks one; one column is all null."""
    tmp = tmp_path_factory.mktemp("dirty")
    empty = pa.array([None] * 40, pa.float64())
    train = _stats(tmp, "train", {**CLEAN, "empty": empty, "train_only": list(range(40))})
    evaluation = _stats(
        tmp,
        "eval",
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "species": ["Adelie", "Emperor", EVIL, "Gentoo"],
            "empty": empty[:4],
            "eval_only": ["p", "q", "r", "s"],
        },
    )
    return _result(train, evaluation, curated=True)


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> checks.ValidationResult:
    """Train equals eval; the baseline's x sits 100 higher, its species the same."""
    tmp = tmp_path_factory.mktemp("drift")
    stats = _stats(tmp, "train", CLEAN)
    baseline = _stats(tmp, "baseline", {**CLEAN, "x": [v + 100 for v in CLEAN["x"]]})
    return _result(stats, stats, baseline)


def _md_cells(markdown: str, first: str) -> list[list[str]]:
    """The cells of every Markdown table row whose first cell is `first` (escaped pipes kept inside cells)."""
    rows = [re.split(r"(?<!\\)\|", line)[1:-1] for line in markdown.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row] for row in rows if row[0].strip() == first]


def _offline_part(page: str) -> str:
    assert page.count(FACETS) == 1
    return page.split(FACETS)[0]


def _feature_block(page: str, name: str) -> str:
    """The HTML of one feature's rows in the statistics tables."""
    start = page.index(f'<th class="feat" rowspan="2">{name}</th>')
    end = min(i for i in (page.find('<th class="feat"', start + 1), page.find("</table>", start)) if i > 0)
    return page[start:end]


def test_markdown_lists_the_unseen_category(dirty: checks.ValidationResult) -> None:
    markdown = render_markdown(dirty)
    assert "**Data NOT OK**" in markdown
    species = [row for row in _md_cells(markdown, keys.EVAL) if row[1] == "species"]
    assert len(species) == 1 and len(species[0]) == 4
    assert species[0][2] == "Unexpected string values" and "Emperor" in species[0][3]
    assert {row[1] for row in _md_cells(markdown, keys.EVAL)} >= {"eval_only", "train_only"}


def test_markdown_escapes_html_pipes_and_newlines(dirty: checks.ValidationResult) -> None:
    assert "<script>" not in render_markdown(dirty)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in render_markdown(dirty)
    odd = dataclasses.replace(dirty, rows=[checks.AnomalyRow(keys.EVAL, "f|g", "a|b", "line 1\nline 2", "ERROR")])
    [row] = _md_cells(render_markdown(odd), keys.EVAL)
    assert row == [keys.EVAL, "f\\|g", "a\\|b", "line 1<br>line 2"]


def test_markdown_says_no_anomalies_when_clean(clean: checks.ValidationResult) -> None:
    assert clean.data_ok
    markdown = render_markdown(clean)
    assert "**Data OK**" in markdown and "No anomalies" in markdown
    assert "| split | feature |" not in markdown
    assert "**Rows:** train 40, eval 40" in markdown
    skew = _md_cells(markdown, "x")[0]
    assert skew[1] == "Jensen-Shannon" and float(skew[4]) == 0 and "⚠" not in "".join(skew)


def test_drift_above_threshold_is_flagged(drifted: checks.ValidationResult) -> None:
    [x] = _md_cells(render_markdown(drifted), "x")
    value, threshold = x[2].strip("* ⚠"), x[3]
    assert x[1] == "Jensen-Shannon" and x[2].endswith("⚠**")
    assert float(value) > float(threshold) == 0.2
    assert len(value.replace(".", "").lstrip("0")) <= 4  # 4 significant digits
    [species] = _md_cells(render_markdown(drifted), "species")
    assert species[1] == "L-infinity" and float(species[2]) == 0 and "⚠" not in species[2]
    assert f'<td class="alert">{value} ⚠</td>' in render_html(drifted)


def test_html_banner_follows_the_decision(clean: checks.ValidationResult, dirty: checks.ValidationResult) -> None:
    assert '<div class="banner ok"><b>Data OK</b>' in render_html(clean)
    page = render_html(dirty)
    assert '<div class="banner bad"><b>Data NOT OK</b>' in page and "Data OK<" not in page


def test_html_statistics_cover_every_feature(dirty: checks.ValidationResult) -> None:
    page = _offline_part(render_html(dirty))
    for name in ("x", "species", "empty", "train_only", "eval_only"):
        assert f'<th class="feat" rowspan="2">{name}</th>' in page
    assert "<svg" in _feature_block(page, "x") and "<rect" in _feature_block(page, "x")
    empty = _feature_block(page, "empty")
    assert "<svg" not in empty and "no values" in empty and "100.0%" in empty
    assert "absent from this split" in _feature_block(page, "eval_only")
    assert "absent from this split" in _feature_block(page, "train_only")
    assert "25.0%" in _feature_block(page, "species")  # each of the four eval values


def test_html_escapes_data_values(dirty: checks.ValidationResult) -> None:
    page = _offline_part(render_html(dirty))
    assert "<script" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'<td class="v">{escaped}</td>' in _feature_block(page, "species")
    assert re.search(rf"<td>[^<]*{re.escape(escaped)}[^<]*</td>", page)  # the anomalies table


def test_html_is_offline_until_the_facets_view(dirty: checks.ValidationResult) -> None:
    page = render_html(dirty)
    offline = _offline_part(page)
    for needle in ("src=", "href=", "url(", "@import", "<link", "<script", "<iframe"):
        assert needle not in offline
    facets = page.split(FACETS)[1]
    assert "internet" in facets.split("</p>")[0] and "offline equivalent" in facets.split("</p>")[0]
    assert "facets-overview" in facets and "https://" in facets
