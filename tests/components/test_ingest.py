"""ingest: reading, the deterministic split, metadata, and every refusal (writing nothing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components import keys
from components.errors import LooplineInputError, SourceError
from components.ingest.executor import ingest


def _run(source: Path | str, tmp_path: Path, **kwargs) -> tuple:
    train, evaluation = tmp_path / "out" / "train", tmp_path / "out" / "eval"
    result = ingest(str(source), kwargs.pop("label", "species"), train, evaluation, log=lambda _: None, **kwargs)
    return result, pq.read_table(train / keys.DATA_FILE), pq.read_table(evaluation / keys.DATA_FILE)


def test_penguins_split_counts_and_metadata(penguins_csv: Path, tmp_path: Path) -> None:
    result, train, evaluation = _run(penguins_csv, tmp_path)
    assert train.num_rows + evaluation.num_rows == 344
    assert result.rows == {"train": train.num_rows, "eval": evaluation.num_rows}
    assert 0.1 < evaluation.num_rows / 344 < 0.3
    assert result.columns["bill_length_mm"] == "double"
    assert result.columns["flipper_length_mm"] == "int64"
    assert result.columns["species"] == "string"
    assert result.content_hash.startswith("sha256:") and len(result.content_hash) == 71
    assert result.source_uris == [str(penguins_csv)]
    meta = result.metadata(keys.EVAL)
    assert meta["num_rows"] == evaluation.num_rows and meta["split"] == "eval"


def test_split_is_deterministic_across_runs(penguins_csv: Path, tmp_path: Path) -> None:
    _, train_a, eval_a = _run(penguins_csv, tmp_path / "a")
    _, train_b, eval_b = _run(penguins_csv, tmp_path / "b")
    assert train_a.equals(train_b) and eval_a.equals(eval_b)


def test_row_lands_in_the_same_split_when_other_rows_change(penguins_csv: Path, tmp_path: Path) -> None:
    """The split hashes each row, so removing rows does not move the others."""
    lines = penguins_csv.read_text().splitlines()
    half = tmp_path / "half.csv"
    half.write_text("\n".join(lines[:1] + lines[1::2]) + "\n")
    _, _, eval_full = _run(penguins_csv, tmp_path / "full")
    _, _, eval_half = _run(half, tmp_path / "half")
    full_rows = set(map(tuple, eval_full.to_pandas().astype(str).values.tolist()))
    half_rows = set(map(tuple, eval_half.to_pandas().astype(str).values.tolist()))
    assert half_rows and half_rows <= full_rows


def test_key_column_split_follows_the_key(fixtures: Path, tmp_path: Path) -> None:
    table = pa.table({"id": [f"k{i}" for i in range(200)], "species": ["a", "b"] * 100, "x": list(range(200))})
    pq.write_table(table, tmp_path / "one.parquet")
    changed = table.set_column(2, "x", pa.array([v * 7 for v in range(200)]))
    pq.write_table(changed, tmp_path / "two.parquet")
    _, _, eval_one = _run(tmp_path / "one.parquet", tmp_path / "o1", key_column="id")
    _, _, eval_two = _run(tmp_path / "two.parquet", tmp_path / "o2", key_column="id")
    assert eval_one.column("id").to_pylist() == eval_two.column("id").to_pylist()


def test_parquet_types_preserved_but_dates_become_iso_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "species": pa.array(["a", "b", None, "a"] * 25, pa.string()),
            "i32": pa.array(range(100), pa.int32()),
            "f32": pa.array([float(i) / 3 for i in range(100)], pa.float32()),
            "flag": pa.array([True, False] * 50),
            "when": pa.array(range(100), pa.timestamp("ms")),
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    _, train, evaluation = _run(tmp_path / "typed.parquet", tmp_path)
    # Every type stays but the timestamp's, which is written as ISO text (TFDV has no date types).
    expected = table.schema.set(4, pa.field("when", pa.string()))
    assert train.schema.equals(expected, check_metadata=False)
    assert evaluation.schema.equals(expected, check_metadata=False)
    assert train.column("when")[0].as_py().startswith("1970-01-01 00:00:00")


def test_folder_and_glob_read_in_name_order(fixtures: Path, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    lines = (fixtures / "tiny.csv").read_text().splitlines()
    (folder / "b.csv").write_text("\n".join([lines[0]] + lines[7:]) + "\n")
    (folder / "a.csv").write_text("\n".join(lines[:7]) + "\n")
    (folder / "_SUCCESS").write_text("")
    result, train, evaluation = _run(folder, tmp_path, eval_fraction=0.5)
    assert result.source_uris == [str(folder / "a.csv"), str(folder / "b.csv")]
    assert train.num_rows + evaluation.num_rows == 12
    glob_result, _, _ = _run(str(folder / "*.csv"), tmp_path / "g", eval_fraction=0.5)
    assert glob_result.source_uris == result.source_uris
    assert glob_result.content_hash == result.content_hash


def test_content_hash_is_the_data_version(fixtures: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    shutil.copy(fixtures / "tiny.csv", copy)
    same, _, _ = _run(copy, tmp_path / "1", eval_fraction=0.5)
    copy.write_text(copy.read_text().replace("39.1", "39.2"))
    changed, _, _ = _run(copy, tmp_path / "2", eval_fraction=0.5)
    original, _, _ = _run(fixtures / "tiny.csv", tmp_path / "3", eval_fraction=0.5)
    assert same.content_hash == original.content_hash != changed.content_hash


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("does-not-exist.csv", "source not found"),
        ("empty.csv", "the file is empty"),
        ("header_only.csv", "zero rows"),
        ("ragged.csv", "cannot be parsed as CSV"),
        ("no_label.csv", "label column 'species' is absent"),
        ("duplicate_columns.csv", "duplicated column names: island"),
    ],
)
def test_refusals_name_the_problem_and_write_nothing(
    fixtures: Path, tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(SourceError, match=message) as info:
        _run(fixtures / name, tmp_path)
    if name != "does-not-exist.csv":
        assert name in str(info.value) or "label" in message
    assert not (tmp_path / "out").exists()


def test_refuses_binary_garbage_and_broken_parquet(tmp_path: Path) -> None:
    (tmp_path / "garbage.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SourceError, match="garbage.csv: cannot be parsed"):
        _run(tmp_path / "garbage.csv", tmp_path)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1" + b"\x00" * 64)
    with pytest.raises(SourceError, match="broken.parquet: cannot be parsed as Parquet"):
        _run(tmp_path / "broken.parquet", tmp_path)
    assert not (tmp_path / "out").exists()


def test_refuses_files_whose_columns_differ(fixtures: Path, tmp_path: Path) -> None:
    shutil.copy(fixtures / "tiny.csv", tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("species,island\nAdelie,Dream\n")
    with pytest.raises(SourceError, match="b.csv: columns"):
        _run(tmp_path, tmp_path / "x")


def test_refuses_duplicated_parquet_columns(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array(["a"]), pa.array([1]), pa.array([2])], names=["species", "x", "x"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(SourceError, match="duplicated column names: x"):
        _run(tmp_path / "dup.parquet", tmp_path / "o")


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_refuses_an_eval_fraction_outside_zero_one(fixtures: Path, tmp_path: Path, fraction: float) -> None:
    with pytest.raises(LooplineInputError, match="eval_fraction must be between 0 and 1"):
        _run(fixtures / "tiny.csv", tmp_path, eval_fraction=fraction)


def test_refuses_a_split_that_would_be_empty(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("species,x\nAdelie,1\n")
    with pytest.raises(LooplineInputError, match="split would be empty: 1 rows"):
        _run(tmp_path / "one.csv", tmp_path)


def test_refuses_an_unknown_key_column(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(LooplineInputError, match="key column 'id' is not in the data"):
        _run(fixtures / "tiny.csv", tmp_path, key_column="id")
