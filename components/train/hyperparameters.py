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
