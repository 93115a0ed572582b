"""Expectations on the bundled Palmer penguins data, which the generator and the default pipeline run depend on."""


import pandas as pd
import pytest

from loopline import paths

PENGUINS = paths.BUNDLED_DATA
COLUMNS = [
    "species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year",
]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(PENGUINS)


def test_shape_and_columns(penguins: pd.DataFrame) -> None:
    assert penguins.shape == (344, 8)
    assert list(penguins.columns) == COLUMNS


def test_types(penguins: pd.DataFrame) -> None:
    for column in ("species", "island", "sex"):
        assert penguins[column].dropna().map(type).eq(str).all(), column
    for column in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        assert pd.api.types.is_float_dtype(penguins[column]), column  # float only because of NA
    complete = penguins.dropna()
    assert (complete["flipper_length_mm"] % 1 == 0).all() and (complete["body_mass_g"] % 1 == 0).all()
    assert pd.api.types.is_integer_dtype(penguins["year"])


def test_categories(penguins: pd.DataFrame) -> None:
    assert penguins["species"].value_counts().to_dict() == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    assert penguins["island"].value_counts().to_dict() == {"Biscoe": 168, "Dream": 124, "Torgersen": 52}
    assert set(penguins["sex"].dropna()) == {"female", "male"}
    assert set(penguins["year"]) == {2007, 2008, 2009}
    # Gentoo live only on Biscoe and Chinstrap only on Dream; Adelie on all three islands.
    islands = penguins.groupby("species")["island"].agg(lambda s: set(s)).to_dict()
    assert islands == {"Adelie": {"Biscoe", "Dream", "Torgersen"}, "Chinstrap": {"Dream"}, "Gentoo": {"Biscoe"}}


def test_missing_values(penguins: pd.DataFrame) -> None:
    assert penguins.isna().any(axis=1).sum() == 11
    assert penguins.isna().sum().to_dict() == {
        "species": 0, "island": 0, "bill_length_mm": 2, "bill_depth_mm": 2,
        "flipper_length_mm": 2, "body_mass_g": 2, "sex": 11, "year": 0,
    }
    # The two rows without measurements lack all four (and sex).
    measurements = penguins[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]]
    assert measurements.isna().all(axis=1).sum() == 2


def test_missing_is_written_as_na() -> None:
    lines = PENGUINS.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert sum("NA" in line.split(",") for line in lines[1:]) == 11
    assert not any("" in line.split(",") for line in lines)  # no empty fields


@pytest.mark.parametrize(
    ("column", "low", "high"),
    [
        ("bill_length_mm", 30, 62),
        ("bill_depth_mm", 12, 23),
        ("flipper_length_mm", 165, 235),
        ("body_mass_g", 2500, 6500),
    ],
)
def test_measurements_plausible(penguins: pd.DataFrame, column: str, low: float, high: float) -> None:
    values = penguins[column].dropna()
    assert values.between(low, high).all()
    assert values.std() > 0


def test_species_differ_where_biology_says(penguins: pd.DataFrame) -> None:
    means = penguins.groupby("species")[["bill_length_mm", "bill_depth_mm", "body_mass_g"]].mean()
    assert means.loc["Adelie", "bill_length_mm"] < means.loc["Chinstrap", "bill_length_mm"] - 5
    assert means.loc["Gentoo", "bill_depth_mm"] < means.loc["Adelie", "bill_depth_mm"] - 2
    assert means.loc["Gentoo", "body_mass_g"] > means.loc["Chinstrap", "body_mass_g"] + 1000
