"""The fused trainer: the same math as Keras `fit`, bit-identical per seed, chunked data, clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from components.errors import LooplineInputError
from components.lib.arrays import feature_arrays
from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel
from components.train.encoding import encode_split
from components.train.executor import train
from components.train.feature_spec import build_feature_spec, load_schema
from components.train.fused import dense_stack, fit_fused
from components.train.model import Hyperparameters, build_model, encoder

QUIET = {"log": lambda _: None}
# On one chunk of one row group both trainers visit the same batches (the same seeded permutation), so
# they differ only by float rounding: cross-entropy from logits here, from clipped softmax in Keras.
AGREEMENT = 1e-4


def _train(splits: dict[str, Path], out: Path, label: str, hp: Hyperparameters):
    return train(splits["train"], splits["eval"], splits["schema"], out, label, hp=hp, **QUIET)


def _eval_table(splits: dict[str, Path]):
    return pq.read_table(parquet_files(splits["eval"])[0])


@pytest.mark.parametrize("label", ["species", "body_mass_g"])  # classification; regression (2 unlabelled rows)
def test_fused_and_keras_agree(penguins_splits: dict[str, Path], tmp_path: Path, label: str) -> None:
    hp = Hyperparameters(epochs=4, early_stopping_patience=4)
    fused = _train(penguins_splits, tmp_path / "fused", label, hp)
    keras_fit = _train(penguins_splits, tmp_path / "keras", label,
                       Hyperparameters(**{**hp.as_dict(), "trainer": "keras"}))
    assert fused.history.keys() == keras_fit.history.keys()
    for name, values in fused.history.items():
        np.testing.assert_allclose(values, keras_fit.history[name], rtol=AGREEMENT, err_msg=name)
    assert fused.best_epoch == keras_fit.best_epoch and fused.rows == keras_fit.rows
    assert fused.dropped_rows == keras_fit.dropped_rows == (2 if label == "body_mass_g" else 0)
    table = _eval_table(penguins_splits)
    a, b = BundleModel(fused.bundle_dir).predict([table]), BundleModel(keras_fit.bundle_dir).predict([table])
    scale = 1.0 if label == "species" else float(np.abs(b).max())
    np.testing.assert_allclose(a / scale, b / scale, atol=AGREEMENT)


def test_same_seed_is_bit_identical_with_dropout_and_chunks(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    files = parquet_files(penguins_splits["train"])
    spec, _ = build_feature_spec(load_schema(penguins_splits["schema"]), files, "species", (), (), "auto")
    hp = Hyperparameters(epochs=3, dropout=0.3, hidden_layers=2, batch_size=16)

    def weights(seed: int, folder: Path) -> list[np.ndarray]:
        import keras

        keras.utils.set_random_seed(seed)
        model = build_model(spec, Hyperparameters(**{**hp.as_dict(), "seed": seed}))
        folder.mkdir()
        # ~64-row chunks: five chunks of the 282 train rows, visited in a shuffled order each epoch.
        train_split = encode_split(model, spec, files, folder, "train", seed, chunk_rows=64, **QUIET)
        eval_split = encode_split(model, spec, parquet_files(penguins_splits["eval"]), folder, "eval", seed, **QUIET)
        assert len(train_split.chunks) == 5 and train_split.rows == 282 and eval_split.chunks == [62]
        fit_fused(model, spec, Hyperparameters(**{**hp.as_dict(), "seed": seed}), train_split, eval_split, **QUIET)
        return [w for layer in dense_stack(model, hp) for w in layer.get_weights()]

    first, again, other = weights(7, tmp_path / "a"), weights(7, tmp_path / "b"), weights(8, tmp_path / "c")
    for w1, w2 in zip(first, again):
        np.testing.assert_array_equal(w1, w2)
    assert any(not np.array_equal(w1, w3) for w1, w3 in zip(first, other))


def _sorted_rows(x: np.ndarray) -> np.ndarray:
    return x[np.lexsort(x.T[::-1])]


def test_chunks_hold_every_labelled_row_once(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    files = parquet_files(penguins_splits["train"])
    spec, _ = build_feature_spec(load_schema(penguins_splits["schema"]), files, "body_mass_g", (), (), "auto")
    model = build_model(spec, Hyperparameters())
    split = encode_split(model, spec, files, tmp_path, "train", 3, chunk_rows=100, **QUIET)
    assert len(split.chunks) == 3 and split.read == 282 and split.dropped == 2 == split.read - split.rows
    table = pq.read_table(files[0])
    labelled = table.filter(table.column("body_mass_g").is_valid())
    x = np.concatenate([np.asarray(split.load(i)[0])[:rows] for i, rows in enumerate(split.chunks)])
    expected = np.asarray(encoder(model)(spec.by_tensor_name(feature_arrays(labelled, spec))))
    # The same rows, in another order; eager vs traced encoding differ by rounding only.
    np.testing.assert_allclose(_sorted_rows(x), _sorted_rows(expected), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.sort(split.labels()), np.sort(labelled.column("body_mass_g").to_numpy()), rtol=1e-6)
    assert all(not np.asarray(split.load(i)[0])[rows:].any() for i, rows in enumerate(split.chunks))  # zero padding


def test_a_source_sorted_by_label_still_gives_mixed_chunks(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    files = parquet_files(penguins_splits["train"])
    ordered = tmp_path / "sorted.parquet"
    pq.write_table(pq.read_table(files[0]).sort_by("species"), ordered)
    spec, _ = build_feature_spec(load_schema(penguins_splits["schema"]), [str(ordered)], "species", (), (), "auto")
    split = encode_split(build_model(spec, Hyperparameters()), spec, [str(ordered)], tmp_path, "train", 3,
                         chunk_rows=60, **QUIET)
    overall = np.bincount(split.labels(), minlength=3) / split.rows
    for index, rows in enumerate(split.chunks):
        shares = np.bincount(np.asarray(split.load(index)[1])[:rows], minlength=3) / rows
        np.testing.assert_allclose(shares, overall, atol=0.2)  # each chunk a uniform sample, not a slice


def test_early_stopping_restores_the_best_epoch(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    # A learning rate this high makes eval loss bounce; patience 1 stops at the first epoch that is worse.
    result = _train(penguins_splits, tmp_path / "m", "species",
                    Hyperparameters(epochs=30, early_stopping_patience=1, learning_rate=0.5))
    losses = result.history["val_loss"]
    assert len(losses) < 30 and losses[-1] >= min(losses)
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.metadata["metrics"]["val_loss"] == min(losses)
    table = _eval_table(penguins_splits)
    probabilities = BundleModel(result.bundle_dir).predict([table])
    classes = result.spec.classes
    truth = np.array([classes.index(v) for v in table.column("species").to_pylist()])
    log_loss = float(-np.mean(np.log(probabilities[np.arange(len(truth)), truth])))
    assert log_loss == pytest.approx(min(losses), rel=1e-4)  # the bundle holds the best epoch's weights


def test_refusals_name_the_trainer(penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(LooplineInputError, match=r"trainer must be 'fused' or 'keras', not 'jax'"):
        _train(penguins_splits, tmp_path / "a", "species", Hyperparameters(trainer="jax"))
    spec, _ = build_feature_spec(load_schema(penguins_splits["schema"]), parquet_files(penguins_splits["train"]),
                              "species", (), (), "auto")
    with pytest.raises(LooplineInputError, match=r"--trainer keras"):
        dense_stack(build_model(spec, Hyperparameters(hidden_layers=2)), Hyperparameters(hidden_layers=1))
    assert not (tmp_path / "a").exists()


def test_constant_columns_and_text_ids_are_left_out_unless_named(penguins_splits: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    import pyarrow as pa

    table = pq.read_table(parquet_files(penguins_splits["train"])[0])
    rows = table.num_rows
    table = table.append_column("row_id", pa.array([f"r{i}" for i in range(rows)])).append_column(
        "site", pa.array(["north"] * rows)).append_column("version", pa.array([3.0] * rows))
    pq.write_table(table, tmp_path / "wide.parquet")
    schema = load_schema(penguins_splits["schema"])
    from tensorflow_metadata.proto.v0 import schema_pb2

    for name, kind in (("row_id", schema_pb2.BYTES), ("site", schema_pb2.BYTES), ("version", schema_pb2.FLOAT)):
        schema.feature.add(name=name, type=kind)
    lines: list[str] = []
    spec, _ = build_feature_spec(schema, [str(tmp_path / "wide.parquet")], "species", (), (), "auto", log=lines.append)
    assert {"row_id", "site", "version"}.isdisjoint(spec.names) and "island" in spec.names
    assert any("'row_id': a different value on every row (an id)" in line for line in lines)
    assert any("'site': constant" in line for line in lines) and any("'version': constant" in line for line in lines)
    named, _ = build_feature_spec(schema, [str(tmp_path / "wide.parquet")], "species", ["site", "bill_length_mm"], (),
                               "auto")
    assert named.names == ["site", "bill_length_mm"]
