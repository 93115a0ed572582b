"""loopline pipelines: the training and monitoring pipeline definitions and the loopline command."""
