"""components/lib/bundle.py: the feature contract, its JSON files, and refusing folders that are not bundles."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from components.errors import LooplineInputError
from components.lib import bundle

BUNDLE_FILES = (bundle.SAVED_MODEL_DIR, bundle.FEATURE_SPEC_FILE, bundle.METADATA_FILE)


def _spec() -> bundle.FeatureSpec:
    """A two-feature classification contract, every optional field set."""
    return bundle.FeatureSpec(
        label="species",
        task=bundle.CLASSIFICATION,
        features=[
            bundle.Feature("island", bundle.CATEGORICAL, "string", vocabulary=["Biscoe", "Dream"],
                           missing_fraction=0.25),
            bundle.Feature("bill_length_mm", bundle.NUMERIC, "float", min=32.1, max=59.6, mean=43.9, std=5.5),
        ],
        classes=["Adelie", "Gentoo"],
    )


def _bundle(folder: Path, spec: bundle.FeatureSpec | None = None, metadata: dict | None = None) -> Path:
    """A hand-written bundle: an (empty) SavedModel folder beside the two JSON files."""
    bundle.write_bundle_files(folder, spec or _spec(), {"version": 3} if metadata is None else metadata)
    (folder / bundle.SAVED_MODEL_DIR).mkdir()
    return folder


# --- the contract dataclasses --------------------------------------------------------------------


def test_names_are_the_features_in_input_order() -> None:
    """FeatureSpec.names lists feature names in the order the model takes them."""
    assert _spec().names == ["island", "bill_length_mm"]


def test_the_spec_round_trips_through_its_json() -> None:
    """from_json(to_json()) gives back an equal spec, every field included."""
    spec = dataclasses.replace(_spec(), task=bundle.REGRESSION, classes=[], label_mean=12.5, label_std=0.5)
    assert bundle.FeatureSpec.from_json(spec.to_json()) == spec
    assert bundle.FeatureSpec.from_json(_spec().to_json()) == _spec()


def test_the_json_uses_the_field_names_the_serving_side_reads() -> None:
    """feature_spec.json has the documented keys; the predictor and bundle_predict.py read them by name."""
    raw = json.loads(_spec().to_json())
    assert list(raw) == ["label", "task", "features", "classes", "label_mean", "label_std"]
    assert list(raw["features"][0]) == ["name", "kind", "dtype", "min", "max", "mean", "std", "vocabulary",
                                        "missing_fraction", "input_name"]
    assert [f["kind"] for f in raw["features"]] == ["categorical", "numeric"]


def test_a_minimal_spec_json_gets_the_defaults() -> None:
    """Only label, task and each feature's name/kind/dtype are required; the rest default."""
    minimal = {"label": "y", "task": "regression", "features": [{"name": "x", "kind": "numeric", "dtype": "int"}]}
    spec = bundle.FeatureSpec.from_json(json.dumps(minimal))
    assert spec.classes == [] and spec.label_mean is None and spec.label_std is None
    assert spec.features == [bundle.Feature("x", bundle.NUMERIC, "int")]
    assert spec.features[0].vocabulary == [] and spec.features[0].missing_fraction == 0.0


def test_the_contract_is_frozen() -> None:
    """A loaded contract cannot be changed in place (a feature's kind, the label)."""
    spec = _spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.features[0].kind = bundle.NUMERIC  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.label = "island"  # type: ignore[misc]


# --- the files on disk ---------------------------------------------------------------------------


def test_a_written_bundle_reads_back_its_spec_and_metadata(tmp_path: Path) -> None:
    """write_bundle_files creates the folder; read_bundle returns the same spec and metadata."""
    metadata = {"version": 3, "metrics": {"accuracy": 0.97}, "features": ["island", "bill_length_mm"]}
    folder = _bundle(tmp_path / "new" / "bundle", metadata=metadata)
    spec, read_metadata = bundle.read_bundle(folder)
    assert spec == _spec()
    assert read_metadata == metadata
    assert sorted(p.name for p in folder.iterdir()) == sorted(BUNDLE_FILES)


def test_metadata_values_json_cannot_hold_are_stored_as_text(tmp_path: Path) -> None:
    """A Path or a datetime in the metadata is written as its str() rather than failing the write."""
    when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    folder = _bundle(tmp_path / "b", metadata={"source": Path("/data/penguins.csv"), "time": when})
    _, metadata = bundle.read_bundle(folder)
    assert metadata == {"source": "/data/penguins.csv", "time": str(when)}


@pytest.mark.parametrize("missing", [(name,) for name in BUNDLE_FILES] + [BUNDLE_FILES])
def test_a_folder_missing_bundle_parts_is_refused_naming_them(tmp_path: Path, missing: tuple[str, ...]) -> None:
    """read_bundle refuses a partial bundle with a LooplineInputError naming the folder and each missing part."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name in set(BUNDLE_FILES) - set(missing):
        if name == bundle.SAVED_MODEL_DIR:
            (folder / name).mkdir()
        else:
            (folder / name).write_text("{}")
    with pytest.raises(LooplineInputError) as caught:
        bundle.read_bundle(folder)
    message = str(caught.value)
    assert str(folder) in message
    assert [name for name in BUNDLE_FILES if name in message] == list(missing)


def test_a_folder_that_does_not_exist_is_refused_as_not_a_bundle(tmp_path: Path) -> None:
    """read_bundle of a missing folder is the same LooplineInputError, not a FileNotFoundError."""
    with pytest.raises(LooplineInputError, match="is not a model bundle"):
        bundle.read_bundle(tmp_path / "nowhere")


def _spec_json(**changes: object) -> str:
    """A minimal valid feature_spec.json with top-level `changes` (None drops a field)."""
    raw = {"label": "y", "task": "classification", "features": [{"name": "x", "kind": "numeric", "dtype": "float"}]}
    raw.update(changes)
    return json.dumps({key: value for key, value in raw.items() if value is not None})


def _feature_json(**changes: object) -> str:
    """A minimal valid feature_spec.json whose one feature has `changes` (None drops a field)."""
    feature = {"name": "x", "kind": "numeric", "dtype": "float", **changes}
    return _spec_json(features=[{key: value for key, value in feature.items() if value is not None}])


MALFORMED = [
    pytest.param(bundle.FEATURE_SPEC_FILE, "{not json", "not valid JSON", id="spec-not-json"),
    pytest.param(bundle.FEATURE_SPEC_FILE, b"\xff\xfe\x00{", "not valid JSON", id="spec-not-text"),
    pytest.param(bundle.FEATURE_SPEC_FILE, "[]", "JSON object", id="spec-not-an-object"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _spec_json(label=None), "label", id="spec-without-label"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _spec_json(clases=["a"]), "clases", id="spec-unknown-field"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _spec_json(label=3), "label", id="spec-label-not-text"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _spec_json(features={"x": {}}), "features", id="features-not-a-list"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _spec_json(features=["x"]), "features", id="feature-not-an-object"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _spec_json(label_std="1"), "label_std",
                 id="spec-std-not-a-number"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _feature_json(colour="red"), "colour", id="feature-unknown-field"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _feature_json(dtype=None), "features[0]", id="feature-without-dtype"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _feature_json(vocabulary=[1]), "features[0].vocabulary",
                 id="feature-vocabulary-not-text"),
    pytest.param(bundle.FEATURE_SPEC_FILE, _feature_json(min=True), "features[0].min", id="feature-min-a-bool"),
    pytest.param(bundle.METADATA_FILE, "[1, 2", "not valid JSON", id="metadata-not-json"),
    pytest.param(bundle.METADATA_FILE, "[1, 2]", "JSON object", id="metadata-not-an-object"),
]


@pytest.mark.parametrize(("file_name", "content", "field"), MALFORMED)
def test_a_malformed_bundle_file_is_refused_naming_file_and_field(
    tmp_path: Path, file_name: str, content: str | bytes, field: str
) -> None:
    """A bundle file that is not a JSON object, or lacks, misnames or mistypes a field, is a LooplineInputError
    naming the file's path and the field (or what is wrong)."""
    folder = _bundle(tmp_path / "bundle")
    path = folder / file_name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(LooplineInputError) as caught:
        bundle.read_bundle(folder)
    assert str(path) in str(caught.value) and field in str(caught.value)


@pytest.mark.parametrize(("text", "field", "allowed"), [
    (_spec_json(task="ranking"), "task", bundle.TASKS),
    (_feature_json(kind="ordinal"), "features[0].kind", bundle.KINDS),
    (_feature_json(dtype="double"), "features[0].dtype", bundle.DTYPES),
])
def test_an_unknown_task_kind_or_dtype_is_refused_naming_the_allowed_values(
    text: str, field: str, allowed: tuple[str, ...]
) -> None:
    """from_json refuses a value outside the known ones, naming the file, the field, the value and the choices."""
    with pytest.raises(LooplineInputError) as caught:
        bundle.FeatureSpec.from_json(text)
    message = str(caught.value)
    assert message.startswith(f"{bundle.FEATURE_SPEC_FILE}: {field} is ")
    assert all(value in message for value in allowed)


# --- a real bundle -------------------------------------------------------------------------------


def test_a_trained_bundles_signatures_match_its_contract(
    penguins_bundle: Path, penguins_splits: dict[str, Path]
) -> None:
    """A trained SavedModel takes exactly the spec's features and dtypes, and head(encode(x)) equals serve(x)."""
    import pyarrow.parquet as pq
    import tensorflow as tf

    from components.lib.arrays import feature_arrays
    from components.lib.datasets import parquet_files

    spec, metadata = bundle.read_bundle(penguins_bundle)
    assert (spec.label, spec.classes, metadata["features"]) == ("species", ["Adelie", "Chinstrap", "Gentoo"],
                                                                spec.names)
    loaded = tf.saved_model.load(str(penguins_bundle / bundle.SAVED_MODEL_DIR))
    serve = loaded.signatures[bundle.SIGNATURE]
    _, inputs = serve.structured_input_signature
    assert {name: t.dtype for name, t in inputs.items()} == {
        f.name: tf.string if f.kind == bundle.CATEGORICAL else tf.float32 for f in spec.features}

    rows = pq.read_table(parquet_files(penguins_splits["eval"])).slice(0, 16)
    tensors = {name: tf.constant(values) for name, values in feature_arrays(rows, spec).items()}
    probabilities = serve(**tensors)["probabilities"].numpy()
    assert probabilities.shape == (16, len(spec.classes))
    encoded = loaded.signatures[bundle.ENCODE_SIGNATURE](**tensors)[bundle.ENCODED]
    via_head = loaded.signatures[bundle.HEAD_SIGNATURE](**{bundle.ENCODED: encoded})["probabilities"].numpy()
    assert via_head == pytest.approx(probabilities, abs=1e-5)
