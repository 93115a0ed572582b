"""The `loopline` command: run pipelines locally, manage models, serve, predict, generate data, talk to KFP."""
