"""retrain's KFP contract: monitor's decision in; a training run started (or why not) out, in the audit log."""

from typing import NamedTuple

from kfp import dsl


def retrain(
    decision: str,
    reason: str,
    registry_uri: str,
    model_name: str,
    retrain_source: str = "",
    target: str = "local",
    cooldown_hours: float = 24.0,
    overrides: dict = {},
    local_pipeline_root: str = "",
    kfp_host: str = "",
    kfp_namespace: str = "",
    training_pipeline: str = "loopline-training",
    experiment: str = "loopline",
    approval: str = "auto",
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> NamedTuple("Retrain", [("triggered", bool), ("reason", str), ("run", str)]):
    """On a "retrain" decision, start training on `retrain_source` with production's settings (`overrides`
    win), unless one was triggered within `cooldown_hours`; record `retrain_triggered` or `retrain_skipped`.

    `target`: "local" runs the training pipeline under kfp.local into `local_pipeline_root`; "kfp"
    submits `training_pipeline` (uploaded by name) through the KFP API at `kfp_host` (in a cluster the
    runner's token from KF_PIPELINES_SA_TOKEN_PATH) in `kfp_namespace`; "none" records only.
    `approval` goes to the training run ("manual": the retrained version waits for `loopline models approve`), with
    this run and its reason as `triggered_by`.
    """
    from collections import namedtuple

    from components.retrain.executor import kfp_submitter
    from components.retrain.executor import retrain as run_retrain

    submit = kfp_submitter(kfp_host, kfp_namespace, training_pipeline, experiment) if target == "kfp" else None
    result = run_retrain(decision, reason, registry_uri, model_name, retrain_source, target=target,
                         cooldown_hours=cooldown_hours, overrides=overrides, pipeline_root=local_pipeline_root,
                         submit=submit, run_id=run_id, approval=approval)
    return namedtuple("Retrain", ["triggered", "reason", "run"])(result.triggered, result.reason, result.run)
