"""infra_validate: serve the candidate with the real predictor and check its answers before any deploy."""
