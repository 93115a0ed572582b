"""The loopline KServe predictor: serves a model bundle over the V1 and V2 (Open Inference) protocols."""
