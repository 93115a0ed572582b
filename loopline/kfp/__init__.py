"""Kubeflow Pipelines on a cluster: the kfp.Client wrapper, cron conversion, the cluster commands."""
