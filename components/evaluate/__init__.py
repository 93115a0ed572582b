"""evaluate: classification and regression metrics, per-slice metrics, and the gate against production."""
