"""components/lib/uri.py: one API over local paths and gs:// objects, tested on both (gs:// on the emulator)."""

from __future__ import annotations

import errno
import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest

from components.errors import StorageError
from components.lib import uri as uri_io
from support.gcs_emulator import local_or_gcs_root

# One tree for the listing and expansion tests: data files, a nested one, a marker and a hidden file.
TREE = {
    "d/b.csv": "b",
    "d/a.txt": "a",
    "d/sub/c.txt": "c",
    "d/_SUCCESS": "",
    "d/.hidden": "h",
    "other/x.txt": "x",
}
DATA_UNDER_D = ["d/a.txt", "d/b.csv", "d/sub/c.txt"]


@pytest.fixture(params=["local", pytest.param("gs", marks=pytest.mark.gcs)])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty folder, as a local path or as a fresh prefix in the emulator's bucket."""
    return local_or_gcs_root(request, tmp_path / "root", "uri-tests")


@pytest.fixture
def gs_root(gcs_bucket: str) -> str:
    """A fresh prefix in the emulator's bucket."""
    return f"gs://{gcs_bucket}/uri-tests/{uuid.uuid4().hex}"


def _write_tree(base: str, tree: dict[str, str] = TREE) -> None:
    for name, text in tree.items():
        uri_io.write_text(uri_io.join(base, name), text)


def _relative(base: str, uris: list[str]) -> list[str]:
    """The names of `uris` below `base`, "/"-separated."""
    return [Path(u).relative_to(base).as_posix() if not uri_io.is_gcs(u) else u[len(base) + 1:] for u in uris]


def _local_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- names: is_gcs, split_gcs, absolute, join ---------------------------------------------------


@pytest.mark.parametrize(("uri", "expected"), [
    ("gs://bucket/a/b.csv", True),
    ("gs://bucket", True),
    ("GS://bucket/a", False),
    ("/data/gs://bucket", False),
    ("s3://bucket/a", False),
    ("data/a.csv", False),
    ("", False),
])
def test_is_gcs_only_for_the_gs_scheme(uri: str, expected: bool) -> None:
    """Only a URI starting with lower-case gs:// is a GCS URI."""
    assert uri_io.is_gcs(uri) is expected


@pytest.mark.parametrize(("uri", "expected"), [
    ("gs://bucket/a/b.csv", ("bucket", "a/b.csv")),
    ("gs://bucket/", ("bucket", "")),
    ("gs://bucket", ("bucket", "")),
])
def test_split_gcs_gives_bucket_and_object_name(uri: str, expected: tuple[str, str]) -> None:
    """A gs:// URI splits into its bucket and the object name after the first slash."""
    assert uri_io.split_gcs(uri) == expected


@pytest.mark.parametrize("uri", ["gs://", "gs:///a/b"])
def test_split_gcs_refuses_a_uri_without_a_bucket_naming_it(uri: str) -> None:
    """A gs:// URI with no bucket is a ValueError whose message quotes the URI."""
    with pytest.raises(ValueError, match=repr(uri)):
        uri_io.split_gcs(uri)


def test_absolute_resolves_a_relative_path_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative local path becomes the absolute path a child process in another directory can use."""
    monkeypatch.chdir(tmp_path)
    assert uri_io.absolute("data/../data/x.csv") == str(tmp_path.resolve() / "data" / "x.csv")
    assert Path(uri_io.absolute("x.csv")).is_absolute()


@pytest.mark.parametrize("uri", ["gs://bucket/a/../b", ""])
def test_absolute_leaves_gcs_uris_and_the_empty_string_as_given(uri: str) -> None:
    """gs:// URIs and "" (an unset optional input) pass through absolute() unchanged."""
    assert uri_io.absolute(uri) == uri


@pytest.mark.parametrize(("base", "parts", "expected"), [
    ("gs://bucket/models", ("penguins", "v1"), "gs://bucket/models/penguins/v1"),
    ("gs://bucket/models/", ("/penguins/", "v1/"), "gs://bucket/models/penguins/v1"),
    ("models", ("penguins", "v1"), str(Path("models", "penguins", "v1"))),
])
def test_join_builds_base_slash_parts(base: str, parts: tuple[str, ...], expected: str) -> None:
    """join puts each part under the base, gs:// always with single "/" separators."""
    assert uri_io.join(base, *parts) == expected


def test_join_keeps_a_slash_led_part_under_the_base_on_both_backends(tmp_path: Path) -> None:
    """join(base, "/name") is base/name on both backends, as its docstring says."""
    assert uri_io.join("gs://bucket/root", "/name") == "gs://bucket/root/name"
    assert uri_io.join(str(tmp_path), "/name") == str(tmp_path / "name")


# --- whole files: write, read, exists, create_if_absent, delete ---------------------------------


def test_written_bytes_and_text_read_back_unchanged(root: str) -> None:
    """Bytes and UTF-8 text round-trip, into folders that did not exist yet."""
    data = bytes(range(256))
    uri_io.write_bytes(uri_io.join(root, "deep", "er", "blob.bin"), data)
    uri_io.write_text(uri_io.join(root, "note.txt"), "pingüino ✓")
    assert uri_io.read_bytes(uri_io.join(root, "deep", "er", "blob.bin")) == data
    assert uri_io.read_text(uri_io.join(root, "note.txt")) == "pingüino ✓"
    assert uri_io.read_bytes(uri_io.join(root, "note.txt")) == "pingüino ✓".encode("utf-8")


def test_overwriting_replaces_the_whole_content_and_leaves_no_other_file(root: str) -> None:
    """A second write replaces the first whole; no temp file is left beside it."""
    target = uri_io.join(root, "f.json")
    uri_io.write_text(target, "a much longer first version")
    uri_io.write_text(target, "v2")
    assert uri_io.read_text(target) == "v2"
    assert uri_io.list_files(root) == ["f.json"]


def test_exists_is_true_only_for_a_file(root: str) -> None:
    """exists() is True for a written file, False for a folder (prefix) and a missing name."""
    _write_tree(root)
    assert uri_io.exists(uri_io.join(root, "d/a.txt"))
    assert not uri_io.exists(uri_io.join(root, "d"))
    assert not uri_io.exists(uri_io.join(root, "d/missing.txt"))


def test_read_bytes_if_exists_gives_content_or_none(root: str) -> None:
    """read_bytes_if_exists returns the content of a file and None for a missing one."""
    uri_io.write_bytes(uri_io.join(root, "here"), b"1")
    assert uri_io.read_bytes_if_exists(uri_io.join(root, "here")) == b"1"
    assert uri_io.read_bytes_if_exists(uri_io.join(root, "absent")) is None


def test_create_if_absent_creates_once_and_never_overwrites(root: str) -> None:
    """The first create writes and says True; the second says False and the first content stays."""
    target = uri_io.join(root, "events", "0001.json")
    assert uri_io.create_if_absent(target, b"first") is True
    assert uri_io.create_if_absent(target, b"second") is False
    assert uri_io.read_bytes(target) == b"first"
    assert uri_io.list_files(uri_io.join(root, "events")) == ["0001.json"]


def test_delete_removes_a_file_and_ignores_an_absent_one(root: str) -> None:
    """delete() removes one file; deleting it again (now absent) is not an error."""
    target = uri_io.join(root, "gone.txt")
    uri_io.write_text(target, "x")
    uri_io.delete(target)
    assert not uri_io.exists(target)
    uri_io.delete(target)


def test_reading_a_missing_local_file_names_the_path(tmp_path: Path) -> None:
    """read_bytes/read_text of a missing local file raise FileNotFoundError (an OSError, unwrapped) naming it."""
    missing = str(tmp_path / "nowhere" / "data.csv")
    for read in (uri_io.read_bytes, uri_io.read_text):
        with pytest.raises(FileNotFoundError, match=missing):
            read(missing)


def test_read_bytes_if_exists_is_none_below_a_file(tmp_path: Path) -> None:
    """A path below a regular file does not exist: None, not NotADirectoryError."""
    (tmp_path / "file").write_text("x")
    assert uri_io.read_bytes_if_exists(str(tmp_path / "file" / "child")) is None


def test_read_bytes_if_exists_is_none_for_a_folder(root: str) -> None:
    """A folder (gs://: a prefix) is not a file, so there is nothing to read: None on both, as exists() is False."""
    _write_tree(root)
    assert uri_io.read_bytes_if_exists(uri_io.join(root, "d")) is None


def test_a_failed_local_write_keeps_the_target_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """Writing over a folder fails (IsADirectoryError) and leaves it intact, with no temp file beside it."""
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "kept.txt").write_text("kept")
    with pytest.raises(IsADirectoryError):
        uri_io.write_bytes(str(tmp_path / "target"), b"new")
    assert (tmp_path / "target" / "kept.txt").read_text() == "kept"
    assert os.listdir(tmp_path) == ["target"]


def test_a_write_failing_midway_leaves_neither_target_nor_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up after part of the temp file is written: the error surfaces, the folder stays empty."""
    real_write = Path.write_bytes

    def disk_full(self: Path, data: bytes) -> int:
        real_write(self, data[:1])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    for write in (uri_io.write_bytes, uri_io.create_if_absent):
        with pytest.raises(OSError, match="No space left"):
            write(str(tmp_path / "f.json"), b"{}")
        assert os.listdir(tmp_path) == []


def test_two_threads_writing_one_path_never_share_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both writers hold their temp files at once (a barrier keeps them there); both renames succeed, one wins."""
    barrier = threading.Barrier(2, timeout=10)
    real_write = Path.write_bytes

    def write_then_wait(self: Path, data: bytes) -> int:
        written = real_write(self, data)
        barrier.wait()
        return written

    monkeypatch.setattr(Path, "write_bytes", write_then_wait)
    target = str(tmp_path / "f")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda data: uri_io.write_bytes(target, data), [b"one", b"two"]))
    assert Path(target).read_bytes() in (b"one", b"two")
    assert os.listdir(tmp_path) == ["f"]


def test_create_if_absent_without_hard_links_still_creates_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a filesystem that refuses hard links the exclusive-create path writes once and refuses after."""

    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(uri_io.os, "link", no_links)
    target = str(tmp_path / "marker")
    assert uri_io.create_if_absent(target, b"first") is True
    assert uri_io.create_if_absent(target, b"second") is False
    assert Path(target).read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["marker"]


# --- folders: expand, list_dirs, list_files, delete_tree ----------------------------------------


def test_expanding_a_local_folder_gives_every_data_file_below_it_in_name_order(tmp_path: Path) -> None:
    """A folder expands to its files at any depth, sorted, without hidden or marker files."""
    _write_tree(str(tmp_path))
    assert _relative(str(tmp_path), uri_io.expand(str(tmp_path / "d"))) == DATA_UNDER_D


def test_expanding_a_local_file_gives_that_file_even_a_marker(tmp_path: Path) -> None:
    """A URI naming one file expands to exactly that file, whatever its name."""
    _write_tree(str(tmp_path))
    for name in ("d/a.txt", "d/_SUCCESS"):
        assert uri_io.expand(str(tmp_path / name)) == [str(tmp_path / name)]


def test_a_local_glob_matches_data_files_at_its_own_depth_only(tmp_path: Path) -> None:
    """A glob gives the matching files in name order: no folders, nothing deeper, no hidden or marker files."""
    _write_tree(str(tmp_path))
    assert _relative(str(tmp_path), uri_io.expand(str(tmp_path / "d" / "*.txt"))) == ["d/a.txt"]
    assert _relative(str(tmp_path), uri_io.expand(str(tmp_path / "*" / "*.txt"))) == ["d/a.txt", "other/x.txt"]
    assert _relative(str(tmp_path), uri_io.expand(str(tmp_path / "d" / "*"))) == ["d/a.txt", "d/b.csv"]
    assert uri_io.expand(str(tmp_path / "d" / "_*")) == uri_io.expand(str(tmp_path / "d" / ".*")) == []


def test_expanding_a_missing_uri_gives_nothing(root: str) -> None:
    """A name that matches nothing expands to [] (callers turn that into their own error)."""
    _write_tree(root)
    for name in ("missing", "d/missing.txt", "d/*.parquet"):
        assert uri_io.expand(uri_io.join(root, name)) == []


@pytest.mark.gcs
@pytest.mark.parametrize("pattern", [
    "d", "d/sub", "d/a.txt", "d/_SUCCESS", "d/.hidden", "d/*.txt", "d/*", "d/_*", "d/.*", "*/*.txt", "*/*/*",
    "d/?.csv", "d/[ab].*", "*", ".*/*",
])
def test_the_same_tree_expands_to_the_same_names_locally_and_on_gcs(
    pattern: str, tmp_path: Path, gs_root: str
) -> None:
    """expand() is one API for both backends: a pattern names the same files on each (globs by segment)."""
    tree = {**TREE, ".cache/y.txt": "y"}
    local_root = str(tmp_path / "local")
    _write_tree(local_root, tree)
    _write_tree(gs_root, tree)
    local = _relative(local_root, uri_io.expand(uri_io.join(local_root, pattern)))
    remote = _relative(gs_root, uri_io.expand(uri_io.join(gs_root, pattern)))
    assert remote == local


def test_list_dirs_gives_the_immediate_subfolders_sorted(root: str) -> None:
    """list_dirs names the direct subfolders only, sorted; a missing folder has none."""
    _write_tree(root)
    assert uri_io.list_dirs(root) == ["d", "other"]
    assert uri_io.list_dirs(uri_io.join(root, "d")) == ["sub"]
    assert uri_io.list_dirs(uri_io.join(root, "missing")) == []


def test_list_files_includes_markers_and_recurses_only_when_asked(root: str) -> None:
    """list_files gives relative names, hidden and marker files too, the subtree only with recursive=True."""
    _write_tree(root)
    d = uri_io.join(root, "d")
    assert uri_io.list_files(d) == [".hidden", "_SUCCESS", "a.txt", "b.csv"]
    assert uri_io.list_files(d, recursive=True) == [".hidden", "_SUCCESS", "a.txt", "b.csv", "sub/c.txt"]
    assert uri_io.list_files(uri_io.join(root, "missing"), recursive=True) == []


def test_list_files_of_a_local_file_is_empty(tmp_path: Path) -> None:
    """A local file is not a folder: list_files and list_dirs give []."""
    (tmp_path / "f").write_text("x")
    assert uri_io.list_files(str(tmp_path / "f")) == [] and uri_io.list_dirs(str(tmp_path / "f")) == []


def test_delete_tree_removes_everything_but_the_kept_top_level_names(root: str) -> None:
    """delete_tree empties a folder, subfolders included, except top-level entries named in keep."""
    _write_tree(root)
    uri_io.delete_tree(root, keep=("other",))
    assert uri_io.list_files(root, recursive=True) == ["other/x.txt"]
    uri_io.delete_tree(uri_io.join(root, "missing"))


def test_delete_tree_unlinks_a_symlinked_folder_without_following_it(tmp_path: Path) -> None:
    """A symlink to a folder outside the tree is removed as a link; what it points to survives."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "link").symlink_to(outside, target_is_directory=True)
    uri_io.delete_tree(str(tree))
    assert list(tree.iterdir()) == []
    assert (outside / "precious.txt").read_text() == "keep me"


# --- copying trees: upload_file, upload_tree, download_tree -------------------------------------


def test_upload_file_copies_one_file_into_new_folders(root: str, tmp_path: Path) -> None:
    """upload_file copies a local file to a URI whose folders do not exist yet."""
    source = tmp_path / "source.bin"
    source.write_bytes(b"\x00payload")
    uri_io.upload_file(source, uri_io.join(root, "a", "b", "copy.bin"))
    assert uri_io.read_bytes(uri_io.join(root, "a", "b", "copy.bin")) == b"\x00payload"


def test_upload_tree_copies_every_file_and_publishes_last_names_last(root: str, tmp_path: Path) -> None:
    """upload_tree copies the tree under the same names and returns them with the `last` ones at the end."""
    local = tmp_path / "bundle"
    _write_tree(str(local), {"saved_model/v.pb": "pb", "metadata.json": "{}", "a.json": "[]", "z/y.txt": "y"})
    names = uri_io.upload_tree(local, root, last=("metadata.json",))
    assert names == ["a.json", "saved_model/v.pb", "z/y.txt", "metadata.json"]
    assert uri_io.list_files(root, recursive=True) == sorted(names)
    assert uri_io.read_text(uri_io.join(root, "saved_model/v.pb")) == "pb"


def test_download_tree_copies_back_except_the_excluded_top_level_names(root: str, tmp_path: Path) -> None:
    """download_tree reproduces the remote tree locally, bytes intact, leaving out excluded entries."""
    _write_tree(root)
    down = tmp_path / "down"
    names = uri_io.download_tree(root, down, exclude=("other",))
    expected = {name: text.encode() for name, text in TREE.items() if not name.startswith("other/")}
    assert sorted(names) == sorted(expected)
    assert _local_tree(down) == expected


# --- gs:// specifics -----------------------------------------------------------------------------


MISSING_BUCKET = "gs://loopline-no-such-bucket/data/x.csv"
# The public calls that take a gs:// URI (the uploads aside), as (uri, scratch folder) -> result.
GCS_CALLS: dict[str, Callable[[str, Path], object]] = {
    "read_bytes": lambda uri, _: uri_io.read_bytes(uri),
    "read_text": lambda uri, _: uri_io.read_text(uri),
    "expand": lambda uri, _: uri_io.expand(uri),
    "list_files": lambda uri, _: uri_io.list_files(uri),
    "list_dirs": lambda uri, _: uri_io.list_dirs(uri),
    "write_bytes": lambda uri, _: uri_io.write_bytes(uri, b"x"),
    "create_if_absent": lambda uri, _: uri_io.create_if_absent(uri, b"x"),
    "download_tree": lambda uri, scratch: uri_io.download_tree(uri, scratch),
    "read_bytes_if_exists": lambda uri, _: uri_io.read_bytes_if_exists(uri),
    "exists": lambda uri, _: uri_io.exists(uri),
    "delete": lambda uri, _: uri_io.delete(uri),
    "delete_tree": lambda uri, _: uri_io.delete_tree(uri),
}


@pytest.mark.gcs
@pytest.mark.parametrize("read", [uri_io.read_bytes, uri_io.read_text])
def test_reading_a_missing_object_is_a_storage_error_naming_the_uri(
    gs_root: str, read: Callable[[str], object]
) -> None:
    """A missing gs:// object is a StorageError whose message starts with the URI, Google's NotFound as cause."""
    from google.api_core.exceptions import NotFound

    missing = uri_io.join(gs_root, "no", "such.csv")
    with pytest.raises(StorageError) as caught:
        read(missing)
    assert str(caught.value).startswith(f"{missing}: ")
    assert isinstance(caught.value.__cause__, NotFound)


@pytest.mark.gcs
@pytest.mark.parametrize("call", list(GCS_CALLS))
@pytest.mark.usefixtures("gcs_bucket")
def test_a_missing_bucket_is_a_storage_error_naming_the_uri(tmp_path: Path, call: str) -> None:
    """Each gs:// call on a bucket that does not exist raises StorageError naming the URI, as the module says:
    a mistyped bucket never looks like an absent object (None, False, nothing to delete)."""
    with pytest.raises(StorageError, match=f"^{re.escape(MISSING_BUCKET)}: "):
        GCS_CALLS[call](MISSING_BUCKET, tmp_path / "scratch")
    assert not (tmp_path / "scratch").exists()


@pytest.mark.gcs
def test_the_client_is_one_anonymous_client_against_the_emulator(gcs_bucket: str) -> None:
    """With STORAGE_EMULATOR_HOST set, gcs_client() is one cached client for the emulator's project."""
    client = uri_io.gcs_client()
    assert client is uri_io.gcs_client()
    assert client.project == "loopline-emulator"
    assert client.bucket(gcs_bucket).exists()
