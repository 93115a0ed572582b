"""Penguin-like data at any size, drawn from a profile fitted to the real data.

Optional injected problems (shifted features, unseen categories, missing values, corrupt
cells) give validation, drift monitoring and serving realistic failures to catch.
Imports only numpy, pandas and pyarrow, so it runs in either environment.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopline import paths

COLUMNS = (
    "species", "island", "bill_length_mm", "bill_depth_mm",
    "flipper_length_mm", "body_mass_g", "sex", "year",
)
LABEL = "species"
MEASUREMENTS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
# Numeric columns and the decimals they are written with (0: an integer column).
DECIMALS = {"bill_length_mm": 1, "bill_depth_mm": 1, "flipper_length_mm": 0, "body_mass_g": 0, "year": 0}
NUMERIC = tuple(DECIMALS)
STRINGS = ("species", "island", "sex")
# Drawn per species from their observed frequencies, independently of the measurements.
CATEGORICAL = ("island", "sex", "year")
MISSING_DEFAULT = tuple(c for c in COLUMNS if c != LABEL)
UNSEEN_VALUES = ("Unseen_1", "Unseen_2", "Unseen_3")
# Besides these, a corrupt cell may hold its value with a decimal comma ("39,1"). None of them
# is among pandas' default NA strings, so they stay corrupt (not missing) when read back.
CORRUPT_TOKENS = ("?", "unknown", "not measured")
FORMATS = ("csv", "parquet")
CHUNK_ROWS = 200_000
DEFAULT_REFERENCE = paths.BUNDLED_DATA


@dataclass(frozen=True)
class SpeciesProfile:
    """How one species' rows are drawn: its share, measurement mean and covariance, category frequencies."""

    prior: float
    mean: tuple[float, ...]  # over MEASUREMENTS
    cov: tuple[tuple[float, ...], ...]
    categories: dict[str, dict[str | int, float]]  # column -> value -> probability


@dataclass(frozen=True)
class Profile:
    """The real data's shape, species by species, from which generated rows are drawn."""

    species: dict[str, SpeciesProfile]


@dataclass(frozen=True)
class Problems:
    """Data problems to inject; none by default. Invalid settings raise ValueError naming them."""

    shift: dict[str, float] = field(default_factory=dict)  # numeric column -> amount added
    unseen: dict[str, float] = field(default_factory=dict)  # string column -> fraction of rows
    missing_rate: float = 0.0  # fraction of cells in missing_columns left empty
    missing_columns: tuple[str, ...] = MISSING_DEFAULT
    corrupt: dict[str, float] = field(default_factory=dict)  # numeric column -> fraction of rows
    species_mix: dict[str, float] = field(default_factory=dict)  # species -> weight (a label shift); {}: as profiled

    def __post_init__(self) -> None:
        _check_columns("shift", self.shift, NUMERIC, "numeric")
        _check_columns("unseen", self.unseen, STRINGS, "a string column")
        _check_columns("missing_columns", self.missing_columns, COLUMNS, "a column")
        _check_columns("corrupt", self.corrupt, NUMERIC, "numeric")
        for column, amount in self.shift.items():
            if not math.isfinite(amount):
                raise ValueError(f"shift: amount for {column!r} must be a finite number, got {amount}")
        for name, weight in self.species_mix.items():
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"species_mix: weight for {name!r} must be a finite number >= 0, got {weight}")
        if self.species_mix and not sum(self.species_mix.values()) > 0:
            raise ValueError("species_mix: at least one weight must be > 0")
        for option, fractions in (("unseen", self.unseen), ("corrupt", self.corrupt),
                                  ("missing_rate", {"rate": self.missing_rate})):
            for name, value in fractions.items():
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{option}: {name} = {value} is outside [0, 1]")


@dataclass(frozen=True)
class GenerateResult:
    """What a generate run wrote and how long it took."""

    path: Path
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Throughput of the run, for progress reports and benchmarks."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _check_columns(option: str, columns: Iterable[str], allowed: tuple[str, ...], kind: str) -> None:
    """Raise ValueError naming the first column of ``option`` that is unknown or of the wrong kind."""
    for column in columns:
        if column not in COLUMNS:
            raise ValueError(f"{option}: unknown column {column!r}; columns are {', '.join(COLUMNS)}")
        if column not in allowed:
            raise ValueError(f"{option}: {column!r} is not {kind}; {option} applies to {', '.join(allowed)}")


def fit_profile(reference_csv: Path) -> Profile:
    """Fit per-species priors, measurement mean/covariance (on complete rows) and category frequencies.

    Category frequencies are over non-missing values, so generated rows have no missing values."""
    if not Path(reference_csv).is_file():
        raise FileNotFoundError(f"reference data not found: {reference_csv}")
    data = pd.read_csv(reference_csv, dtype={"species": str, "island": str, "sex": str, "year": "Int64"})
    absent = [c for c in COLUMNS if c not in data.columns]
    if absent:
        raise ValueError(f"{reference_csv}: missing columns {', '.join(absent)}")
    priors = data[LABEL].value_counts(normalize=True).sort_index()
    species = {}
    for name, rows in data.groupby(LABEL, sort=True):
        complete = rows[list(MEASUREMENTS)].dropna().to_numpy(dtype=float)
        categories = {c: rows[c].value_counts(normalize=True).sort_index().to_dict() for c in CATEGORICAL}
        if len(complete) <= len(MEASUREMENTS) or not all(categories.values()):
            raise ValueError(f"{reference_csv}: species {name!r} has too few complete rows to fit a profile")
        species[name] = SpeciesProfile(
            prior=float(priors[name]),
            mean=tuple(complete.mean(axis=0)),
            cov=tuple(map(tuple, np.cov(complete, rowvar=False))),
            categories=categories,
        )
    return Profile(species)


def _priors(profile: Profile, mix: dict[str, float]) -> list[float]:
    """Each species' share: the profile's, or the mix's weights normalised (unnamed species: 0)."""
    unknown = sorted(set(mix) - set(profile.species))
    if unknown:
        raise ValueError(f"species_mix: unknown species {', '.join(unknown)} (known: {', '.join(profile.species)})")
    if not mix:
        return [s.prior for s in profile.species.values()]
    total = sum(mix.values())
    return [mix.get(name, 0.0) / total for name in profile.species]


def _sample(profile: Profile, rows: int, rng: np.random.Generator, mix: dict[str, float]) -> dict[str, np.ndarray]:
    """Draw clean rows: a species by prior (or the mix), then its measurements and categories (numbers unrounded)."""
    which = rng.choice(len(profile.species), size=rows, p=_priors(profile, mix))
    columns = {c: np.empty(rows, dtype=float if c in NUMERIC else object) for c in COLUMNS}
    columns[LABEL] = np.asarray(list(profile.species), dtype=object)[which]
    for index, species in enumerate(profile.species.values()):
        chosen = np.flatnonzero(which == index)
        draws = rng.multivariate_normal(species.mean, species.cov, size=chosen.size, method="cholesky")
        for position, column in enumerate(MEASUREMENTS):
            columns[column][chosen] = draws[:, position]
        for column, frequencies in species.categories.items():
            columns[column][chosen] = rng.choice(list(frequencies), size=chosen.size, p=list(frequencies.values()))
    return columns


def _corrupt(values: np.ndarray, decimals: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Write a numeric column as text, a ``fraction`` of its cells replaced by non-numeric strings."""
    text = np.char.mod(f"%.{decimals}f", values).astype(object)
    hit = np.flatnonzero(rng.random(values.size) < fraction)
    comma = np.char.replace(np.char.mod("%.1f", values[hit]), ".", ",")
    token = np.asarray(CORRUPT_TOKENS)[rng.integers(len(CORRUPT_TOKENS), size=hit.size)]
    text[hit] = np.where(rng.random(hit.size) < 0.5, comma, token)
    return text


def _chunk(profile: Profile, problems: Problems, rows: int, seed: int, index: int,
           written: tuple[str, ...] = COLUMNS) -> pd.DataFrame:
    """One chunk of rows with the problems applied, drawn from (seed, chunk index) alone.

    Clean rows and problems use separate streams, so a problem changes only what it targets."""
    clean_seed, problem_seed = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(2)
    columns = _sample(profile, rows, np.random.default_rng(clean_seed), problems.species_mix)
    rng = np.random.default_rng(problem_seed)
    for column, amount in problems.shift.items():
        columns[column] = columns[column] + amount
    for column, decimals in DECIMALS.items():
        columns[column] = np.round(columns[column], decimals)
    for column, fraction in sorted(problems.unseen.items()):
        hit = rng.random(rows) < fraction
        columns[column][hit] = rng.choice(UNSEEN_VALUES, size=int(hit.sum()))
    for column, fraction in sorted(problems.corrupt.items()):
        columns[column] = _corrupt(columns[column], DECIMALS[column], fraction, rng)
    missing = {
        c: rng.random(rows) < problems.missing_rate
        for c in COLUMNS if problems.missing_rate and c in problems.missing_columns
    }
    return pd.DataFrame({c: _with_missing(columns[c], missing.get(c, np.zeros(rows, dtype=bool)),
                                          integer=DECIMALS.get(c) == 0) for c in written})


def _with_missing(values: np.ndarray, missing: np.ndarray, integer: bool) -> np.ndarray | pd.arrays.IntegerArray:
    """A column with its ``missing`` cells empty: None for text, NaN for floats, NA in a nullable Int64."""
    if values.dtype == object:
        return np.where(missing, None, values)
    if integer:
        return pd.arrays.IntegerArray(values.astype(np.int64), missing)
    return np.where(missing, np.nan, values)


def _schema(problems: Problems, written: tuple[str, ...]) -> pa.Schema:
    """The one Parquet schema of every chunk: penguins' types, corrupted numeric columns as strings."""
    def arrow_type(column: str) -> pa.DataType:
        if column in STRINGS or column in problems.corrupt:
            return pa.string()
        return pa.int64() if DECIMALS[column] == 0 else pa.float64()
    return pa.schema([(c, arrow_type(c)) for c in written])


@contextmanager
def _writer(path: Path, fmt: str, problems: Problems, written: tuple[str, ...]
            ) -> Iterator[Callable[[pd.DataFrame], None]]:
    """Yield a function appending one chunk to ``path``: CSV rows with NA for missing, or one row group."""
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            f.write(",".join(written) + "\n")
            yield lambda frame: frame.to_csv(f, header=False, index=False, na_rep="NA", lineterminator="\n")
    else:
        schema = _schema(problems, written)
        with pq.ParquetWriter(path, schema) as parquet:
            yield lambda frame: parquet.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))


def generate(
    profile: Profile,
    rows: int,
    out: Path,
    fmt: str,
    seed: int = 0,
    problems: Problems = Problems(),
    progress: Callable[[int, int, float], None] | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    label: bool = True,
) -> GenerateResult:
    """Write ``rows`` penguin-like rows to ``out`` chunk by chunk, in bounded memory and deterministically.

    The file appears whole or not at all: it is written beside ``out`` and renamed at the end.
    The same arguments (``chunk_rows`` included) give byte-identical output; ``label=False`` leaves the label
    column out (rows to serve), and the other columns are the same as with it."""
    written = COLUMNS if label else tuple(c for c in COLUMNS if c != LABEL)
    _priors(profile, problems.species_mix)  # unknown species: refused before anything is written
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    for name, value, least in (("rows", rows, 0), ("seed", seed, 0), ("chunk_rows", chunk_rows, 1)):
        if value < least:
            raise ValueError(f"{name} must be >= {least}, got {value}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    start = time.perf_counter()
    try:
        with _writer(partial, fmt, problems, written) as write:
            for index, begin in enumerate(range(0, rows, chunk_rows)):
                size = min(chunk_rows, rows - begin)
                write(_chunk(profile, problems, size, seed, index, written))
                if progress is not None:
                    progress(begin + size, rows, time.perf_counter() - start)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return GenerateResult(out, rows, time.perf_counter() - start)


def report_progress(done: int, total: int, seconds: float) -> None:
    """Print one progress line on stderr: rows written, share, throughput and time left."""
    rate = done / seconds if seconds > 0 else 0.0
    left = (total - done) / rate if rate else 0.0
    print(f"generate: {done:,}/{total:,} rows ({done / total:.0%}), {rate:,.0f} rows/s, ~{left:.0f} s left",
          file=sys.stderr, flush=True)
