"""The training pipeline: ingest -> validate -> train -> evaluate + infra-validate -> register -> deploy."""

from kfp import dsl

from components.deploy.component import deploy
from components.evaluate.component import evaluate
from components.infra_validate.component import infra_validate
from components.register.component import register
from components.train.component import train
from pipelines.data_validation import data_stage
from pipelines.task_settings import PIPELINE_ROOT, configure

NAME = "loopline-training"


@dsl.pipeline(name=NAME, pipeline_root=PIPELINE_ROOT,
              description="Validate data, train, evaluate against production, register, deploy.")
def training_pipeline(
    source: str,
    registry_uri: str,
    model_name: str = "penguins",
    label_column: str = "species",
    features: list = [],
    exclude_features: list = [],
    task: str = "auto",
    eval_fraction: float = 0.2,
    key_column: str = "",
    schema_uri: str = "",
    baseline_statistics_uri: str = "",
    drift_categorical_threshold: float = 0.2,
    drift_numeric_threshold: float = 0.2,
    skew_categorical_threshold: float = 0.2,
    skew_numeric_threshold: float = 0.2,
    statistics_engine: str = "auto",
    beam_pipeline_args: list = [],
    on_anomalies: str = "fail",
    hidden_units: int = 16,
    hidden_layers: int = 1,
    dropout: float = 0.0,
    learning_rate: float = 0.01,
    epochs: int = 20,
    batch_size: int = 32,
    early_stopping_patience: int = 5,
    seed: int = 42,
    floors: dict = {},
    tolerance: float = 0.01,
    slice_columns: list = [],
    golden_rows: int = 16,
    model_repository: str = "",
    server_url: str = "",
    deploy_target: str = "local",
    kserve_namespace: str = "loopline",
    min_replicas: int = 1,
    max_replicas: int = 3,
    canary_traffic_percent: int = -1,
    rollout_timeout_seconds: float = 600,
):
    """Anomalies stop the run before training when `on_anomalies` is "fail". Every candidate is
    registered with its evaluation; only an approved, infra-validated one becomes production."""
    data, checked = data_stage(locals())
    trained = configure(train(
        train=data.outputs["train"], eval=data.outputs["eval"], schema=checked.outputs["schema"],
        label_column=label_column, features=features, exclude_features=exclude_features, task=task,
        hidden_units=hidden_units, hidden_layers=hidden_layers, dropout=dropout, learning_rate=learning_rate,
        epochs=epochs, batch_size=batch_size, early_stopping_patience=early_stopping_patience, seed=seed,
    ), "train")
    judged = configure(evaluate(
        model=trained.outputs["model"], eval=data.outputs["eval"], registry_uri=registry_uri,
        model_name=model_name, floors=floors, tolerance=tolerance, slice_columns=slice_columns,
    ), "evaluate")
    served = configure(infra_validate(model=trained.outputs["model"], eval=data.outputs["eval"],
                                      golden_rows=golden_rows), "infra-validate")
    registered = configure(register(
        model=trained.outputs["model"], evaluation=judged.outputs["evaluation"], registry_uri=registry_uri,
        model_name=model_name,
    ), "register")
    configure(deploy(
        registry_uri=registry_uri, model_name=model_name, version=registered.outputs["version"],
        approved=judged.outputs["approved"], approval_reason=judged.outputs["reason"],
        infra_ok=served.outputs["infra_ok"], infra_reason=served.outputs["reason"],
        model_repository=model_repository, server_url=server_url, target=deploy_target,
        namespace=kserve_namespace, min_replicas=min_replicas, max_replicas=max_replicas,
        canary_traffic_percent=canary_traffic_percent, rollout_timeout_seconds=rollout_timeout_seconds,
    ), "deploy")
