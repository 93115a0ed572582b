"""retrain: start a training run when monitoring says so, once per cooldown, recorded in the audit log."""
