"""The data report of a training run: what became of every column of the data, and why.

Every column of the schema gets one entry, so a user can see that a column they expected in the model was left
out (an id, a constant, a date), excluded by them, or coded differently than they thought (an integer column
taken as a number, not a category). The entries go into the bundle's metadata and a Markdown report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from components.lib import markdown
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, FeatureSpec

# What became of a column.
LABEL, FEATURE, LEFT_OUT, EXCLUDED, NOT_NAMED = "label", "feature", "left out", "excluded", "not named"


@dataclass(frozen=True)
class ColumnFate:
    """One column: what it became and how (its encoding, or why it is not in the model)."""

    column: str
    became: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _feature_detail(spec: FeatureSpec, name: str) -> str:
    feature = next(f for f in spec.features if f.name == name)
    tensor = f"; input tensor `{feature.tensor_name}`" if feature.tensor_name != name else ""
    if feature.kind == CATEGORICAL:
        if feature.dtype == "int" and set(feature.vocabulary) <= {"true", "false"}:
            return f"boolean, taken as a category{tensor}"
        coded = "integer-coded category" if feature.dtype == "int" else "category"
        return f"{coded}, {len(feature.vocabulary)} values in the vocabulary{tensor}"
    return (f"number ({feature.dtype}), {feature.min:g} to {feature.max:g}, "
            f"{feature.missing_fraction:.1%} missing{tensor}")


def column_fates(columns: Sequence[str], spec: FeatureSpec, left_out: dict[str, str], excluded: Sequence[str],
                 dates: Sequence[str], named: Sequence[str]) -> list[ColumnFate]:
    """One entry per column, in the data's order: the label, the model's features, and every other column with the
    reason it is not used (`left_out` by the rules, `excluded` by the user, a date/time column, not `named` in a
    features list)."""
    used = set(spec.names)
    fates = []
    for column in columns:
        if column == spec.label:
            what = f"{len(spec.classes)} classes" if spec.task == CLASSIFICATION else "a number"
            fates.append(ColumnFate(column, LABEL, f"{spec.task}: {what}"))
        elif column in used:
            fates.append(ColumnFate(column, FEATURE, _feature_detail(spec, column)))
        elif column in left_out:
            fates.append(ColumnFate(column, LEFT_OUT, f"{left_out[column]}; name it in features to keep it"))
        elif column in excluded:
            fates.append(ColumnFate(column, EXCLUDED, "named in exclude_features"))
        elif column in dates:
            fates.append(ColumnFate(column, LEFT_OUT, "a date/time (ISO text); name it in features to use it as "
                                                      "a category"))
        elif named:
            fates.append(ColumnFate(column, NOT_NAMED, "features names the model's inputs, not this column"))
    return fates


def report_markdown(fates: Sequence[ColumnFate], rows: int) -> str:
    """The report as Markdown: a count line, then a table with a row per column."""
    counts = {what: sum(f.became == what for f in fates) for what in (FEATURE, LEFT_OUT, EXCLUDED, NOT_NAMED)}
    summary = ", ".join(f"{n} {what}{'s' if what == FEATURE and n != 1 else ''}" for what, n in counts.items() if n)
    lines = ["# Data report: what became of every column", "",
             f"{len(fates)} columns, {rows:,} train rows: 1 label, {summary}.", "",
             *markdown.table(["column", "became", "how"],
                             ([markdown.cell(f.column), markdown.cell(f.became), markdown.cell(f.detail)]
                              for f in fates))]
    return "\n".join(lines) + "\n"
