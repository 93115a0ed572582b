"""Compile every pipeline to YAML under pipelines/compiled/ (committed; a test checks it is fresh)."""

from __future__ import annotations

from pathlib import Path

from pipelines import PIPELINES, create
from pipelines.settings import CompileSettings

COMPILED_DIR = Path(__file__).resolve().parent / "compiled"


def compiled_path(name: str, out_dir: Path = COMPILED_DIR) -> Path:
    """Where the YAML of one pipeline goes."""
    return out_dir / f"{name.replace('-', '_')}.yaml"


def compiled_names(out_dir: Path = COMPILED_DIR) -> list[str]:
    """The names of the pipelines compiled in `out_dir` (the committed ones by default), read from the
    folder without building any pipeline."""
    return sorted(path.stem.replace("_", "-") for path in out_dir.glob("*.yaml"))


def compile_all(settings: CompileSettings, out_dir: Path = COMPILED_DIR) -> list[Path]:
    """Compile each pipeline of the catalogue for `settings`; returns the files written."""
    from kfp import compiler

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PIPELINES:
        path = compiled_path(name, out_dir)
        compiler.Compiler().compile(pipeline_func=create(name, settings), package_path=str(path))
        written.append(path)
    return written
