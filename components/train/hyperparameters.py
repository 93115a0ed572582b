"""The training knobs, apart from the model code: steps that only need their names or defaults (retrain,
the defaults test) read them without importing TensorFlow."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Hyperparameters:
    """Training knobs; each field is the train component's (and the pipeline's) parameter of the same name."""

    hidden_units: int = 16
    hidden_layers: int = 1
    dropout: float = 0.0
    learning_rate: float = 0.01
    epochs: int = 20
    batch_size: int = 32
    early_stopping_patience: int = 5
    seed: int = 42
    trainer: str = "fused"  # "fused": XLA-compiled epochs over the encoded matrix; "keras": model.fit

    def as_dict(self) -> dict:
        """For metadata.json."""
        return asdict(self)

    def problems(self) -> list[str]:
        """What is out of range, one line per parameter (train refuses these; `loopline run` before running)."""
        checks = {
            "hidden_units": (self.hidden_units >= 1, "at least 1"), "hidden_layers": (self.hidden_layers >= 0, ">= 0"),
            "dropout": (0.0 <= self.dropout < 1.0, "in [0, 1)"), "learning_rate": (self.learning_rate > 0, "> 0"),
            "epochs": (self.epochs >= 1, "at least 1"), "batch_size": (self.batch_size >= 1, "at least 1"),
            "early_stopping_patience": (self.early_stopping_patience >= 1, "at least 1"),
            "trainer": (self.trainer in ("fused", "keras"), "'fused' or 'keras'"),
        }
        return [f"{name} must be {rule}, not {getattr(self, name)!r}" for name, (ok, rule) in checks.items() if not ok]
