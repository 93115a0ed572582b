"""register's KFP contract: the model bundle, its evaluation and its data check in; the registry version and its
model card out."""

from typing import NamedTuple

from kfp import dsl


def register(
    model: dsl.Input[dsl.Model],
    evaluation: dsl.Input[dsl.Artifact],
    anomalies: dsl.Input[dsl.Artifact],
    model_card_html: dsl.Output[dsl.HTML],
    model_card_markdown: dsl.Output[dsl.Markdown],
    registry_uri: str,
    model_name: str,
    intended_use: str = "",
    triggered_by: str = "",
    environment: dict = {},
    run_id: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> NamedTuple("Registered", [("version", int), ("uri", str)]):
    """Record the candidate as a new immutable version with its evaluation, the gate's decision and what its model
    card shows; write the card (`model_card_html`, `model_card_markdown`; also kept in the registry, where later
    lifecycle events are appended to it).

    `anomalies`: validate's decision and anomalies. `intended_use`: the user's text on intended use and limitations.
    `triggered_by`: what started this run (retrain passes the monitoring run and its reason). `environment`: the
    images and lock-file hashes the pipeline was compiled with. Every candidate is kept, approved or not; promotion
    to production is the deploy step's job (or `loopline models promote` / `approve`).
    """
    from collections import namedtuple
    from pathlib import Path

    from components.lib import uri as uri_io
    from components.lib.model_card_store import card_uris
    from components.lib.registry import Registry
    from components.register.executor import register as run_register

    version = run_register(Path(model.path), Path(evaluation.path), registry_uri, model_name, run_id,
                           data_check_dir=Path(anomalies.path), intended_use=intended_use,
                           triggered_by=triggered_by, environment=environment)
    html_uri, markdown_uri = card_uris(Registry(registry_uri), model_name, version.number)
    for artifact, uri in ((model_card_html, html_uri), (model_card_markdown, markdown_uri)):
        Path(artifact.path).parent.mkdir(parents=True, exist_ok=True)
        Path(artifact.path).write_text(uri_io.read_text(uri))
    return namedtuple("Registered", ["version", "uri"])(version.number, version.uri)
