"""The training pipeline: ingest -> validate -> train -> evaluate + infra-validate -> register -> deploy."""

from kfp import dsl

from components import keys
from components.catalog import build
from pipelines.data_validation import add_data_stage
from pipelines.settings import CompileSettings
from pipelines.task_settings import configure

NAME = "loopline-training"


def create_pipeline(settings: CompileSettings) -> dsl.graph_component.GraphComponent:
    """The training pipeline built for these compile-time settings."""
    steps = build(settings.images)

    @dsl.pipeline(name=NAME, pipeline_root=settings.pipeline_root,
                  description="Validate data, train, evaluate against production, register, deploy.")
    def training_pipeline(
        source: str,
        registry_uri: str,
        model_name: str,
        label_column: str = "species",
        features: list = [],
        exclude_features: list = [],
        categorical_features: list = [],
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
        trainer: str = "fused",
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
        approval: str = "auto",
        intended_use: str = "",
        triggered_by: str = "",
    ):
        """Anomalies stop the run before training when `on_anomalies` is "fail". Every candidate is
        registered with its evaluation and model card; only an approved, infra-validated one becomes
        production, and with `approval` "manual" only once a person approves it (`loopline models approve`).
        `intended_use`: the card's intended use and limitations; `triggered_by`: what started the run."""
        data, checked = add_data_stage(
            steps, settings, source=source, label_column=label_column, eval_fraction=eval_fraction,
            key_column=key_column, schema_uri=schema_uri, baseline_statistics_uri=baseline_statistics_uri,
            drift_categorical_threshold=drift_categorical_threshold, drift_numeric_threshold=drift_numeric_threshold,
            skew_categorical_threshold=skew_categorical_threshold, skew_numeric_threshold=skew_numeric_threshold,
            statistics_engine=statistics_engine, beam_pipeline_args=beam_pipeline_args, on_anomalies=on_anomalies,
        )
        trained = configure(steps.train(
            train=data.outputs[keys.TRAIN], eval=data.outputs[keys.EVAL], schema=checked.outputs[keys.SCHEMA],
            statistics=checked.outputs[keys.STATISTICS],
            label_column=label_column, features=features, exclude_features=exclude_features,
            categorical_features=categorical_features, task=task,
            hidden_units=hidden_units, hidden_layers=hidden_layers, dropout=dropout, learning_rate=learning_rate,
            epochs=epochs, batch_size=batch_size, early_stopping_patience=early_stopping_patience, seed=seed,
            trainer=trainer,
        ), "train", settings)
        judged = configure(steps.evaluate(
            model=trained.outputs[keys.MODEL], eval=data.outputs[keys.EVAL], registry_uri=registry_uri,
            model_name=model_name, floors=floors, tolerance=tolerance, slice_columns=slice_columns,
        ), "evaluate", settings)
        served = configure(steps.infra_validate(
            model=trained.outputs[keys.MODEL], eval=data.outputs[keys.EVAL], golden_rows=golden_rows,
        ), "infra-validate", settings)
        registered = configure(steps.register(
            model=trained.outputs[keys.MODEL], evaluation=judged.outputs[keys.EVALUATION],
            anomalies=checked.outputs[keys.ANOMALIES], registry_uri=registry_uri, model_name=model_name,
            intended_use=intended_use, triggered_by=triggered_by, environment=settings.environment(),
        ), "register", settings)
        configure(steps.deploy(
            registry_uri=registry_uri, model_name=model_name, version=registered.outputs[keys.VERSION],
            approved=judged.outputs[keys.APPROVED], approval_reason=judged.outputs[keys.REASON],
            infra_ok=served.outputs[keys.INFRA_OK], infra_reason=served.outputs[keys.REASON],
            model_repository=model_repository, server_url=server_url, target=deploy_target,
            namespace=kserve_namespace, min_replicas=min_replicas, max_replicas=max_replicas,
            canary_traffic_percent=canary_traffic_percent, rollout_timeout_seconds=rollout_timeout_seconds,
            approval=approval,
        ), "deploy", settings)

    return training_pipeline
