"""evaluate's KFP contract: candidate + eval data in; metrics, curves, slices, and the decision out."""

from typing import NamedTuple

from kfp import dsl


def evaluate(
    model: dsl.Input[dsl.Model],
    eval: dsl.Input[dsl.Dataset],
    metrics: dsl.Output[dsl.Metrics],
    classification_metrics: dsl.Output[dsl.ClassificationMetrics],
    evaluation: dsl.Output[dsl.Artifact],
    report_markdown: dsl.Output[dsl.Markdown],
    registry_uri: str = "",
    model_name: str = "",
    floors: dict = {},
    tolerance: float = 0.01,
    slice_columns: list = [],
) -> NamedTuple("EvaluateDecision", [("approved", bool), ("reason", str)]):
    """The candidate, and the registry's production model, on the same eval rows; then the gate.

    Approved when every floor holds ({"min_accuracy": 0.9}, {"max_rmse": 300}, ...) and the
    candidate is not worse than production on the primary metric by more than `tolerance`.
    Not approved is a recorded decision (`approved`, `reason`), not a failed run.
    """
    from collections import namedtuple
    from pathlib import Path

    from components.evaluate.executor import EvaluateOutputs
    from components.evaluate.executor import evaluate as run_evaluate

    result = run_evaluate(Path(model.path), Path(eval.path), registry_uri=registry_uri, model_name=model_name,
                          floors=floors, tolerance=tolerance, slice_columns=slice_columns,
                          outputs=EvaluateOutputs(Path(evaluation.path), Path(report_markdown.path)))
    for name, value in result.scalar_metrics().items():
        metrics.log_metric(name, value)
    if result.classes:
        classification_metrics.log_confusion_matrix(result.classes, result.candidate["confusion_matrix"])
    roc = result.roc_curve()
    if roc:
        classification_metrics.log_roc_curve(roc[1]["fpr"], roc[1]["tpr"], roc[1]["thresholds"])
        classification_metrics.metadata["roc_class"] = roc[0]
    evaluation.metadata.update(approved=result.decision.approved, reason=result.decision.reason)
    return namedtuple("EvaluateDecision", ["approved", "reason"])(result.decision.approved, result.decision.reason)
