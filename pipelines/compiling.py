"""Compile every pipeline to YAML under pipelines/compiled/ (committed; a test checks it is fresh)."""

from pathlib import Path

from kfp import compiler

COMPILED_DIR = Path(__file__).resolve().parent / "compiled"


def compiled_path(name: str, out_dir: Path = COMPILED_DIR) -> Path:
    """Where the YAML of one pipeline goes."""
    return out_dir / f"{name.replace('-', '_')}.yaml"


def compiled_names(out_dir: Path = COMPILED_DIR) -> list[str]:
    """The names of the pipelines compiled in `out_dir` (the committed ones by default), without
    importing the pipeline definitions (which read compile-time settings)."""
    return sorted(path.stem.replace("_", "-") for path in out_dir.glob("*.yaml"))


def compile_all(out_dir: Path = COMPILED_DIR) -> list[Path]:
    """Compile each registered pipeline; returns the files written. (Imported here: defining the
    pipelines reads the compile-time settings, whose errors the CLI reports in one line.)"""
    from pipelines.registry import PIPELINES

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, func in PIPELINES.items():
        path = compiled_path(name, out_dir)
        compiler.Compiler().compile(pipeline_func=func, package_path=str(path))
        written.append(path)
    return written
