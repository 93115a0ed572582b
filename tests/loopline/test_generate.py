"""The penguin-like data generator: layout, determinism, fidelity to the real data, injected problems, CLI.

Statistical checks allow 5 standard errors: with the fixed seeds they are deterministic, and with any
other seed a false failure has a chance below one in a million per check.
"""

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from loopline import cli
from loopline import generate as generate_command
from loopline import synthetic as gen
from loopline.synthetic import Problems, fit_profile, generate

REAL = gen.DEFAULT_REFERENCE
MEASUREMENTS = list(gen.MEASUREMENTS)
Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def profile() -> gen.Profile:
    return fit_profile(REAL)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return pd.read_csv(REAL)


def make(profile: gen.Profile, path: Path, rows: int = 2000, seed: int = 0,
         problems: Problems = Problems(), **kwargs) -> pd.DataFrame:
    """Generate into ``path`` (format from its suffix) and read it back as pandas."""
    fmt = path.suffix.lstrip(".")
    result = generate(profile, rows, path, fmt, seed, problems, **kwargs)
    assert result.path == path and result.rows == rows and result.seconds > 0
    return pd.read_csv(path) if fmt == "csv" else pq.read_table(path).to_pandas()


def within(observed: float, expected: float, standard_error: float) -> bool:
    return abs(observed - expected) <= 5 * standard_error


def fraction_tolerance(rate: float, n: int) -> float:
    return math.sqrt(rate * (1 - rate) / n)


# --- profile ---------------------------------------------------------------------------------

def test_profile_matches_real_data(profile: gen.Profile, real: pd.DataFrame) -> None:
    assert list(profile.species) == ["Adelie", "Chinstrap", "Gentoo"]
    assert sum(s.prior for s in profile.species.values()) == pytest.approx(1.0)
    assert profile.species["Chinstrap"].prior == pytest.approx(68 / 344)
    complete = real.dropna(subset=MEASUREMENTS)
    for name, species in profile.species.items():
        rows = complete[complete["species"] == name][MEASUREMENTS]
        np.testing.assert_allclose(species.mean, rows.mean().to_numpy())
        np.testing.assert_allclose(species.cov, rows.cov().to_numpy())
        assert np.all(np.linalg.eigvalsh(np.array(species.cov)) > 0)
    assert profile.species["Gentoo"].categories["island"] == {"Biscoe": 1.0}
    assert sum(profile.species["Adelie"].categories["sex"].values()) == pytest.approx(1.0)  # NA excluded


def test_fit_profile_rejects_bad_reference(tmp_path: Path, real: pd.DataFrame) -> None:
    lacking = tmp_path / "lacking.csv"
    real.drop(columns=["sex"]).to_csv(lacking, index=False)
    with pytest.raises(ValueError, match="missing columns sex"):
        fit_profile(lacking)
    with pytest.raises(FileNotFoundError, match="reference data not found"):
        fit_profile(tmp_path / "absent.csv")


# --- layout ----------------------------------------------------------------------------------

def test_layout_matches_penguins(profile: gen.Profile, tmp_path: Path) -> None:
    real_schema = pacsv.read_csv(REAL).schema
    csv_path, parquet_path = tmp_path / "a.csv", tmp_path / "a.parquet"
    problems = Problems(missing_rate=0.1)  # NA in every column but species must keep the types
    generate(profile, 1500, csv_path, "csv", 1, problems)
    generate(profile, 1500, parquet_path, "parquet", 1, problems)
    assert pacsv.read_csv(csv_path).schema == real_schema
    assert pq.read_schema(parquet_path).remove_metadata() == real_schema
    assert real_schema.field("body_mass_g").type == pa.int64()  # numeric, as the real data reads
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == REAL.read_text(encoding="utf-8").splitlines()[0]
    assert len(lines) == 1501
    cells = [cell for line in lines for cell in line.split(",")]
    assert "NA" in cells and "" not in cells
    assert pq.read_table(parquet_path).num_rows == 1500


def test_values_rounded_like_penguins(profile: gen.Profile, tmp_path: Path) -> None:
    data = make(profile, tmp_path / "a.csv")
    for column in ("bill_length_mm", "bill_depth_mm"):
        tenths = data[column] * 10
        assert np.allclose(tenths, tenths.round()), column
    for column in ("flipper_length_mm", "body_mass_g", "year"):
        assert pd.api.types.is_integer_dtype(data[column]), column
    assert set(data["year"]) == {2007, 2008, 2009}
    assert set(data["sex"]) == {"female", "male"}
    assert data.notna().all().all()  # no missing values unless asked for


def test_zero_rows_writes_header_only(profile: gen.Profile, tmp_path: Path) -> None:
    assert make(profile, tmp_path / "a.csv", rows=0).columns.tolist() == list(gen.COLUMNS)
    assert make(profile, tmp_path / "a.parquet", rows=0).shape == (0, 8)


# --- determinism, chunks, atomic write -------------------------------------------------------

EVERY_PROBLEM = Problems(shift={"body_mass_g": 300}, unseen={"island": 0.1}, missing_rate=0.05,
                         corrupt={"bill_depth_mm": 0.05})


@pytest.mark.parametrize("fmt", gen.FORMATS)
def test_seeded_and_deterministic(profile: gen.Profile, tmp_path: Path, fmt: str) -> None:
    def run(name: str, seed: int) -> bytes:
        path = tmp_path / f"{name}.{fmt}"
        generate(profile, 2500, path, fmt, seed, EVERY_PROBLEM, chunk_rows=1000)
        return path.read_bytes()

    first = run("first", 7)
    assert run("again", 7) == first
    assert run("other", 8) != first


def test_chunks_and_progress(profile: gen.Profile, tmp_path: Path) -> None:
    calls = []
    path = tmp_path / "a.parquet"
    generate(profile, 2500, path, "parquet", 0, EVERY_PROBLEM,
             progress=lambda *call: calls.append(call), chunk_rows=1000)
    assert [(done, total) for done, total, _ in calls] == [(1000, 2500), (2000, 2500), (2500, 2500)]
    seconds = [elapsed for _, _, elapsed in calls]
    assert seconds == sorted(seconds) and seconds[0] > 0
    metadata = pq.ParquetFile(path).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [1000, 1000, 500]
    # Chunks differ from one another (each has its own stream), not repeats of chunk 0.
    table = pq.read_table(path).to_pandas()
    assert not table.iloc[:500].reset_index(drop=True).equals(table.iloc[1000:1500].reset_index(drop=True))


def test_interrupted_run_leaves_no_file(profile: gen.Profile, tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_text("previous\n")

    def interrupt(done: int, total: int, elapsed: float) -> None:
        if done >= 2000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(profile, 5000, target, "csv", 0, progress=interrupt, chunk_rows=1000)
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


# --- fidelity --------------------------------------------------------------------------------

def test_classes_fit_real_data(profile: gen.Profile, tmp_path: Path, real: pd.DataFrame) -> None:
    rows = 50_000
    data = make(profile, tmp_path / "big.parquet", rows=rows, seed=3)
    shares = data["species"].value_counts(normalize=True)
    for name, real_rows in real.groupby("species"):
        prior = len(real_rows) / len(real)
        assert within(shares[name], prior, fraction_tolerance(prior, rows)), name
        ours = data[data["species"] == name]
        theirs = real_rows[MEASUREMENTS].dropna()
        for column in MEASUREMENTS:
            sd = theirs[column].std()
            assert within(ours[column].mean(), theirs[column].mean(), sd / math.sqrt(len(ours))), (name, column)
            # The sd of a normal sample has relative standard error 1/sqrt(2n) (< 1% here).
            assert within(ours[column].std() / sd, 1.0, 1 / math.sqrt(2 * len(ours))), (name, column)
        # Categories never leave the species' real support (no Gentoo on Dream).
        assert set(ours["island"]) == set(real_rows["island"]), name
    # The within-species correlation is kept: heavier Gentoo have longer flippers.
    gentoo = data[data["species"] == "Gentoo"]
    assert gentoo["body_mass_g"].corr(gentoo["flipper_length_mm"]) > 0.5


# --- injected problems -----------------------------------------------------------------------

@pytest.mark.parametrize(("column", "amount"), [("bill_length_mm", 4.0), ("body_mass_g", -500.0)])
def test_shift_moves_one_feature(profile: gen.Profile, tmp_path: Path, column: str, amount: float) -> None:
    clean = make(profile, tmp_path / "clean.csv")
    shifted = make(profile, tmp_path / "shifted.csv", problems=Problems(shift={column: amount}))
    difference = shifted[column] - clean[column]
    assert difference.mean() == pytest.approx(amount, abs=0.05)  # rounding moves a value by < 1 unit
    assert (difference - amount).abs().max() <= 1.0
    pd.testing.assert_frame_equal(shifted.drop(columns=column), clean.drop(columns=column))


def test_unseen_values(profile: gen.Profile, tmp_path: Path, real: pd.DataFrame) -> None:
    rows, rate = 4000, 0.2
    clean = make(profile, tmp_path / "clean.csv", rows=rows)
    data = make(profile, tmp_path / "unseen.csv", rows=rows, problems=Problems(unseen={"island": rate}))
    unseen = ~data["island"].isin(set(real["island"]))
    assert within(unseen.mean(), rate, fraction_tolerance(rate, rows))
    values = set(data.loc[unseen, "island"])
    assert values <= set(gen.UNSEEN_VALUES) and len(values) >= 2
    assert data.loc[~unseen, "island"].equals(clean.loc[~unseen, "island"])
    pd.testing.assert_frame_equal(data.drop(columns="island"), clean.drop(columns="island"))


def test_species_mix_shifts_the_labels_and_keeps_each_species_measurements(
    profile: gen.Profile, tmp_path: Path
) -> None:
    rows = 6000
    clean = make(profile, tmp_path / "clean.csv", rows=rows)
    mixed = make(profile, tmp_path / "mixed.csv", rows=rows, problems=Problems(species_mix={"Gentoo": 3, "Adelie": 1}))
    shares = mixed["species"].value_counts(normalize=True)
    assert set(shares.index) == {"Gentoo", "Adelie"}  # an unnamed species gets weight 0
    assert within(shares["Gentoo"], 0.75, fraction_tolerance(0.75, rows))
    for species in ("Gentoo", "Adelie"):  # a label shift, not a change of what each species looks like
        assert mixed.loc[mixed.species == species, "body_mass_g"].mean() == pytest.approx(
            clean.loc[clean.species == species, "body_mass_g"].mean(), rel=0.02)


def test_unknown_species_in_the_mix_is_refused_naming_the_known_ones(profile: gen.Profile, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown species Emperor .known: Adelie, Chinstrap, Gentoo"):
        generate(profile, 10, tmp_path / "a.csv", "csv", problems=Problems(species_mix={"Emperor": 1}))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_without_the_label_the_other_columns_are_the_same(profile: gen.Profile, tmp_path: Path, suffix: str) -> None:
    labelled = make(profile, tmp_path / f"labelled{suffix}")
    unlabelled = make(profile, tmp_path / f"unlabelled{suffix}", label=False)
    assert list(unlabelled.columns) == [c for c in labelled.columns if c != "species"]
    pd.testing.assert_frame_equal(unlabelled, labelled.drop(columns="species"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_missing_in_chosen_columns_only(profile: gen.Profile, tmp_path: Path, suffix: str) -> None:
    rows, rate, chosen = 3000, 0.15, ("sex", "body_mass_g")
    data = make(profile, tmp_path / f"a{suffix}", rows=rows,
                problems=Problems(missing_rate=rate, missing_columns=chosen))
    missing = data.isna().mean()
    for column in gen.COLUMNS:
        if column in chosen:
            assert within(missing[column], rate, fraction_tolerance(rate, rows)), column
        else:
            assert missing[column] == 0, column


def test_missing_defaults_to_all_but_species(profile: gen.Profile, tmp_path: Path) -> None:
    missing = make(profile, tmp_path / "a.csv", problems=Problems(missing_rate=0.1)).isna().mean()
    assert missing["species"] == 0
    assert (missing.drop("species") > 0.05).all()


def test_corrupt_cells(profile: gen.Profile, tmp_path: Path) -> None:
    rows, rate = 3000, 0.1
    problems = Problems(corrupt={"body_mass_g": rate})
    clean = make(profile, tmp_path / "clean.csv", rows=rows)
    data = make(profile, tmp_path / "corrupt.csv", rows=rows, problems=problems)
    assert data["body_mass_g"].dtype == object
    numbers = pd.to_numeric(data["body_mass_g"], errors="coerce")
    corrupt = numbers.isna()
    assert within(corrupt.mean(), rate, fraction_tolerance(rate, rows))
    bad = set(data.loc[corrupt, "body_mass_g"])
    assert set(gen.CORRUPT_TOKENS) <= bad  # the tokens, and values written with a decimal comma
    assert any("," in value for value in bad)
    assert (numbers[~corrupt] == clean.loc[~corrupt, "body_mass_g"]).all()
    pd.testing.assert_frame_equal(data.drop(columns="body_mass_g"), clean.drop(columns="body_mass_g"))

    parquet = tmp_path / "corrupt.parquet"
    generate(profile, rows, parquet, "parquet", 0, problems)
    schema = pq.read_schema(parquet)
    assert schema.field("body_mass_g").type == pa.string()
    assert schema.field("flipper_length_mm").type == pa.int64()


# --- bad arguments ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"shift": {"wingspan_mm": 1.0}}, "unknown column 'wingspan_mm'"),
        ({"shift": {"island": 1.0}}, "'island' is not numeric"),
        ({"shift": {"bill_length_mm": math.inf}}, "finite"),
        ({"unseen": {"year": 0.1}}, "'year' is not a string column"),
        ({"unseen": {"sex": 1.5}}, r"sex = 1.5 is outside \[0, 1\]"),
        ({"missing_rate": -0.1}, "missing_rate: rate = -0.1"),
        ({"missing_columns": ("sex", "beak")}, "unknown column 'beak'"),
        ({"corrupt": {"sex": 0.1}}, "'sex' is not numeric"),
        ({"corrupt": {"body_mass_g": math.nan}}, "body_mass_g = nan"),
        ({"species_mix": {"Gentoo": -1.0}}, "weight for 'Gentoo' must be a finite number >= 0"),
        ({"species_mix": {"Gentoo": 0.0}}, "at least one weight must be > 0"),
    ],
)
def test_bad_problems_raise(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Problems(**arguments)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"fmt": "json"}, "fmt must be one of csv, parquet, got 'json'"),
        ({"rows": -1}, "rows must be >= 0"),
        ({"seed": -3}, "seed must be >= 0"),
        ({"chunk_rows": 0}, "chunk_rows must be >= 1"),
    ],
)
def test_bad_generate_arguments_raise(profile: gen.Profile, tmp_path: Path, arguments: dict, message: str) -> None:
    call = {"rows": 10, "fmt": "csv", "seed": 0} | arguments
    with pytest.raises(ValueError, match=message):
        generate(profile, out=tmp_path / "a.csv", **call)
    assert not list(tmp_path.iterdir())


# --- command line ----------------------------------------------------------------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="loopline")
    generate_command.add_parsers(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["generate", *argv])


def test_cli_writes_what_the_api_writes(profile: gen.Profile, tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "cli.parquet"
    args = parse("--rows", "1_500", "--out", str(out), "--seed", "4", "--shift", "bill_length_mm=3.5",
                 "--unseen", "sex=0.1", "--missing-rate", "0.05", "--missing-columns", "island, year",
                 "--corrupt", "flipper_length_mm=0.02")
    assert args.func(args) == 0
    expected = tmp_path / "api.parquet"
    generate(profile, 1500, expected, "parquet", 4,
             Problems(shift={"bill_length_mm": 3.5}, unseen={"sex": 0.1}, missing_rate=0.05,
                      missing_columns=("island", "year"), corrupt={"flipper_length_mm": 0.02}))
    assert out.read_bytes() == expected.read_bytes()
    captured = capsys.readouterr()
    assert f"wrote {out} (parquet): 1,500 rows" in captured.out and "rows/s" in captured.out
    assert captured.err == ""  # one chunk: no progress lines


def test_cli_defaults(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "nested" / "data.csv"
    args = parse("--out", str(out))
    assert args.reference == REAL and args.format is None
    assert args.func(args) == 0
    assert pd.read_csv(out).shape == (1000, 8)
    assert "(csv): 1,000 rows" in capsys.readouterr().out


def test_cli_reports_progress_for_large_outputs(tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "large.parquet"
    args = parse("--rows", str(gen.CHUNK_ROWS + 1), "--out", str(out))
    assert args.func(args) == 0
    progress = capsys.readouterr().err.splitlines()
    assert len(progress) == 2
    assert progress[-1].startswith(f"generate: {gen.CHUNK_ROWS + 1:,}/{gen.CHUNK_ROWS + 1:,} rows (100%)")
    assert pq.read_metadata(out).num_rows == gen.CHUNK_ROWS + 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shift", "bill_length_mm"], "argument --shift: expected KEY=NUMBER, got 'bill_length_mm'"),
        (["--corrupt", "body_mass_g=lots"], "argument --corrupt: expected KEY=NUMBER"),
        (["--unseen", "=0.1"], "argument --unseen: expected KEY=NUMBER"),
        (["--rows", "-5"], "argument --rows: expected a whole number >= 0, got '-5'"),
    ],
)
def test_cli_rejects_bad_syntax(tmp_path: Path, capsys: Capture, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("--out", str(tmp_path / "a.csv"), *argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--unseen", "year=0.1"], "unseen: 'year' is not a string column"),
        (["--missing-rate", "0.1", "--missing-columns", "sex,beak"], "missing_columns: unknown column 'beak'"),
        (["--reference", "/nonexistent/penguins.csv"], "reference data not found: /nonexistent/penguins.csv"),
        (["--format", "json"], "--format must be one of csv, parquet, got 'json'"),
        (["--species-mix", "Emperor=1"], "species_mix: unknown species Emperor"),
    ],
)
def test_cli_reports_bad_values(tmp_path: Path, capsys: Capture, argv: list[str], message: str) -> None:
    """Through main(): one line with the one prefix, exit 2, nothing written."""
    assert cli.main(["generate", "--out", str(tmp_path / "a.csv"), *argv]) == 2
    assert capsys.readouterr().err.startswith(f"loopline: error: {message}")
    assert not list(tmp_path.iterdir())
