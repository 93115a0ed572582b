"""monitor's KFP contract: the prediction log (with its labels), the model and the registry in; drift and performance
per version, Prometheus metrics and a decision out."""

from typing import NamedTuple

from kfp import dsl


def monitor(
    prediction_log_uri: str,
    model_name: str,
    registry_uri: str,
    monitoring: dsl.Output[dsl.Artifact],
    report_markdown: dsl.Output[dsl.Markdown],
    report_html: dsl.Output[dsl.HTML],
    metrics: dsl.Output[dsl.Metrics],
    window_hours: float = 24.0,
    since: str = "",
    until: str = "",
    thresholds: dict = {},
    min_rows: int = 500,
    maturity_hours: float = 24.0,
    performance_tolerance: float = 0.05,
    min_labels: int = 50,
    pushgateway_url: str = "",
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> NamedTuple("MonitorDecision", [("decision", str), ("reason", str)]):
    """Served rows of the window (`since`..`until`, ISO times, or the last `window_hours`) against each
    served version's frozen baseline: PSI, KL (larger direction), Jensen-Shannon and L-infinity per
    feature and for the prediction, each with its noise floor at the window's size.

    `decision`: "retrain" (naming the features and measures), "ok", or "insufficient data" (production
    served fewer than `min_rows` rows: never a retrain). `thresholds` overrides the defaults per check
    ({"psi": 0.2, "kl": 0.2, "js": 0.1, "linf": 0.1, "new": 0.01}; `new`: the share of served values in
    bins the training data never filled, such as an unseen category).

    Labels sent with `loopline feedback` join the logged rows by inference id: rows younger than
    `maturity_hours` are not expected to have one yet (label coverage counts the older rows). A realized
    metric worse than the version's eval figure by more than `performance_tolerance` (absolute for accuracy, macro F1,
    R^2; relative for RMSE, MAE), or past its floor, by its whole 95% interval on at least `min_labels`
    labelled rows is also a "retrain". The metrics go to `monitoring` as metrics.prom (Prometheus text
    format) and, when `pushgateway_url` is set, to that Pushgateway. The window and its decision are recorded as a
    `monitored` event of the production version (and appended to its model card).
    """
    from collections import namedtuple
    from pathlib import Path

    from components.monitor.executor import MonitorOutputs
    from components.monitor.executor import monitor as run_monitor
    from components.monitor.exposition import push
    from components.monitor.log_reading import window_of
    from components.monitor.performance import PerformanceSettings

    result = run_monitor(prediction_log_uri, model_name, registry_uri, window_of(since, until, window_hours),
                         thresholds=thresholds, min_rows=min_rows,
                         outputs=MonitorOutputs(Path(monitoring.path), Path(report_markdown.path),
                                                Path(report_html.path)),
                         settings=PerformanceSettings(maturity_hours=maturity_hours,
                                                      performance_tolerance=performance_tolerance,
                                                      min_labels=min_labels),
                         run=run_id)
    if pushgateway_url:
        monitoring.metadata["pushed"] = push(result, pushgateway_url)
    for name, value in result.scalar_metrics().items():
        metrics.log_metric(name, value)
    monitoring.metadata.update(decision=result.decision, reason=result.reason,
                               canary=result.canary.verdict if result.canary else "")
    return namedtuple("MonitorDecision", ["decision", "reason"])(result.decision, result.reason)
