"""Where things are on this machine: the repository, the bundled data, the serving interpreter, out/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_DATA = ROOT / "data" / "penguins.csv"
# The interpreter of .venv-serving: the predictor and the infra-validate step run in it locally.
SERVING_PYTHON = ROOT / ".venv-serving" / "bin" / "python"
# Default output folders, relative to where the command runs (as `make run` does, from the repository root).
OUT = Path("out")
PIPELINE_ROOT = OUT / "pipeline-root"
REGISTRY = OUT / "registry"
MODEL_REPOSITORY = OUT / "models"
PREDICTION_LOG = OUT / "prediction-log"
