"""ingest from gs:// against a real gcp-storage-emulator: same rows and data version as from disk."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from components import keys
from components.errors import SourceError
from components.ingest.executor import ingest
from components.lib import uri as uri_io

pytestmark = pytest.mark.gcs


def _ingest(source: str, out: Path):
    result = ingest(source, "species", out / "train", out / "eval", log=lambda _: None)
    return result, pq.read_table(out / "eval" / keys.DATA_FILE)


def test_gcs_file_folder_and_glob_match_local(gcs_bucket: str, penguins_csv: Path, tmp_path: Path) -> None:
    lines = penguins_csv.read_text().splitlines(keepends=True)
    uri_io.write_text(f"gs://{gcs_bucket}/penguins/all.csv", "".join(lines))
    uri_io.write_text(f"gs://{gcs_bucket}/parts/a.csv", "".join(lines[:200]))
    uri_io.write_text(f"gs://{gcs_bucket}/parts/b.csv", "".join(lines[:1] + lines[200:]))

    local, local_eval = _ingest(str(penguins_csv), tmp_path / "local")
    from_file, file_eval = _ingest(f"gs://{gcs_bucket}/penguins/all.csv", tmp_path / "file")
    from_dir, dir_eval = _ingest(f"gs://{gcs_bucket}/parts", tmp_path / "dir")
    from_glob, _ = _ingest(f"gs://{gcs_bucket}/parts/*.csv", tmp_path / "glob")

    assert from_file.content_hash == local.content_hash
    assert file_eval.equals(local_eval)
    assert from_file.source_uris == [f"gs://{gcs_bucket}/penguins/all.csv"]
    assert from_dir.source_uris == [f"gs://{gcs_bucket}/parts/a.csv", f"gs://{gcs_bucket}/parts/b.csv"]
    assert from_glob.source_uris == from_dir.source_uris
    assert sum(from_dir.rows.values()) == 344
    assert dir_eval.num_rows == local_eval.num_rows


def test_gcs_missing_source_is_refused(gcs_bucket: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="source not found"):
        _ingest(f"gs://{gcs_bucket}/nothing/here.csv", tmp_path)
    assert not (tmp_path / "train").exists()
