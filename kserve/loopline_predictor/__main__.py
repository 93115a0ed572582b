"""Start the loopline predictor: `python -m loopline_predictor --model_dir DIR [kserve options]`.

DIR is one model bundle (served as --model_name) or a model repository: a folder of bundles,
each served under its folder's name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import kserve
from kserve import model_server

from components.bundle import FEATURE_SPEC_FILE
from loopline_predictor.model import LooplineModel


def build_parser() -> argparse.ArgumentParser:
    """KServe's standard server options plus ours."""
    parser = argparse.ArgumentParser(parents=[model_server.parser], description=__doc__)
    parser.add_argument("--model_dir", required=True, help="a model bundle, or a folder of bundles")
    parser.add_argument("--max_batch_size", type=int, default=1024, help="rows per request, at most")
    return parser


def models_in(model_dir: Path, model_name: str, max_batch_size: int) -> list[LooplineModel]:
    """One model for a bundle folder, or one per bundle of a model repository."""
    if (model_dir / FEATURE_SPEC_FILE).exists():
        return [LooplineModel(model_name, str(model_dir), max_batch_size)]
    bundles = sorted(p for p in model_dir.iterdir() if (p / FEATURE_SPEC_FILE).exists())
    if not bundles:
        raise SystemExit(f"loopline-predictor: no model bundle in {model_dir}")
    return [LooplineModel(p.name, str(p), max_batch_size) for p in bundles]


def main() -> None:
    """Load every model, then serve them with kserve.ModelServer."""
    args, _ = build_parser().parse_known_args()
    models = models_in(Path(args.model_dir), args.model_name, args.max_batch_size)
    for model in models:
        model.load()
    kserve.ModelServer().start(models)


if __name__ == "__main__":
    main()
