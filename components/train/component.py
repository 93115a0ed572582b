"""train's KFP contract: datasets and schema in, a model bundle and per-epoch metrics out."""

from kfp import dsl


def train(
    train: dsl.Input[dsl.Dataset],
    eval: dsl.Input[dsl.Dataset],
    schema: dsl.Input[dsl.Artifact],
    statistics: dsl.Input[dsl.Artifact],
    model: dsl.Output[dsl.Model],
    metrics: dsl.Output[dsl.Metrics],
    report_markdown: dsl.Output[dsl.Markdown],
    label_column: str,
    features: list = [],
    exclude_features: list = [],
    categorical_features: list = [],
    task: str = "auto",
    hidden_units: int = 16,
    hidden_layers: int = 1,
    dropout: float = 0.0,
    learning_rate: float = 0.01,
    epochs: int = 20,
    batch_size: int = 32,
    early_stopping_patience: int = 5,
    seed: int = 42,
    trainer: str = "fused",
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
):
    """Train a Keras model whose preprocessing is inside it; write the model bundle, with its monitoring
    baseline (frozen bins, the schema and validate's train `statistics`).

    Task from the label (categorical -> classification, numeric -> regression) unless `task` says.
    Features: `features` (default every schema feature but ingest's date/time columns) minus `exclude_features`
    and the label; unless `features` names them, constant columns and ids are left out. Text and booleans are
    categories, numbers are numbers, but for `categorical_features` (integer-coded categories). The data report
    (`report_markdown`) says what became of every column.
    `trainer`: "fused" (XLA-compiled epochs over the features encoded once) or "keras" (model.fit).
    """
    from pathlib import Path

    from components import keys
    from components.train.executor import train as run_train
    from components.train.model import Hyperparameters

    result = run_train(
        Path(train.path),
        Path(eval.path),
        Path(schema.path) / keys.SCHEMA_FILE,
        Path(model.path),
        label_column,
        features,
        exclude_features,
        task,
        Hyperparameters(hidden_units=hidden_units, hidden_layers=hidden_layers, dropout=dropout,
                        learning_rate=learning_rate, epochs=epochs, batch_size=batch_size,
                        early_stopping_patience=early_stopping_patience, seed=seed,
                        trainer=trainer),
        statistics_path=Path(statistics.path) / keys.STATS_FILE.format(split=keys.TRAIN),
        dates=train.metadata.get("temporal_columns", []),
        categorical_features=categorical_features,
        report_path=Path(report_markdown.path),
        provenance={
            "data_hash": train.metadata.get("content_hash", ""),
            "source_uris": train.metadata.get("source_uris", []),
            "run": run_id,
        },
    )
    model.metadata.update(framework="tensorflow", task=result.spec.task, best_epoch=result.best_epoch)
    for name, value in result.logged_metrics().items():
        metrics.log_metric(name, value)
