"""The monitoring pipeline: monitor -> retrain, on a schedule (KFP recurring run) or by hand."""

from kfp import dsl

from components import keys
from components.catalog import build
from pipelines.settings import CompileSettings
from pipelines.task_settings import configure

NAME = "loopline-monitoring"


def create_pipeline(settings: CompileSettings) -> dsl.graph_component.GraphComponent:
    """The monitoring pipeline built for these compile-time settings."""
    steps = build(settings.images)

    @dsl.pipeline(name=NAME, pipeline_root=settings.pipeline_root,
                  description="Measure the served traffic's drift and performance against the production "
                              "baseline and eval metrics; retrain on drift or degradation.")
    def monitoring_pipeline(
        prediction_log_uri: str,
        registry_uri: str,
        model_name: str,
        window_hours: float = 24.0,
        since: str = "",
        until: str = "",
        thresholds: dict = {},
        min_rows: int = 500,
        maturity_hours: float = 24.0,
        performance_tolerance: float = 0.05,
        min_labels: int = 50,
        pushgateway_url: str = "",
        retrain_source: str = "",
        retrain_target: str = "local",
        cooldown_hours: float = 24.0,
        overrides: dict = {},
        local_pipeline_root: str = "",
        kfp_host: str = "",
        kfp_namespace: str = "",
        training_pipeline: str = "loopline-training",
        experiment: str = "loopline",
        approval: str = "auto",
    ):
        """A `retrain` decision starts the training pipeline on `retrain_source` (once per cooldown); the new
        model meets the same gates as any other before it is deployed, and with `approval` "manual" waits for a
        person (`loopline models approve`)."""
        watched = configure(steps.monitor(
            prediction_log_uri=prediction_log_uri, model_name=model_name, registry_uri=registry_uri,
            window_hours=window_hours, since=since, until=until, thresholds=thresholds, min_rows=min_rows,
            maturity_hours=maturity_hours, performance_tolerance=performance_tolerance, min_labels=min_labels,
            pushgateway_url=pushgateway_url,
        ), "monitor", settings)
        configure(steps.retrain(
            decision=watched.outputs[keys.DECISION], reason=watched.outputs[keys.REASON], registry_uri=registry_uri,
            model_name=model_name, retrain_source=retrain_source, target=retrain_target,
            cooldown_hours=cooldown_hours, overrides=overrides, local_pipeline_root=local_pipeline_root,
            kfp_host=kfp_host, kfp_namespace=kfp_namespace, training_pipeline=training_pipeline,
            experiment=experiment, approval=approval,
        ), "retrain", settings)

    return monitoring_pipeline
