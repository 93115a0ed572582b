"""`loopline lifecycle`: the loop after the first deploy, on the bundled data, one line per stage.

Serve production with the prediction log on, send traffic like the training data -> monitor says
ok; the true species of half the served rows come back (`loopline feedback`, by inference id) ->
realized vs estimated accuracy; send traffic from a shifted world (body_mass_g +1200 g, 3% unseen
islands) -> the monitoring pipeline says retrain naming those features, trains on labelled data from
that world, evaluates against production on the same eval rows, deploys (hot reload) -> the server
answers with the new version (read back from its prediction log), whose labelled rows give its own
realized vs estimated accuracy. The last stage of `make run`.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from loopline import output, paths

if TYPE_CHECKING:
    from components.monitor.executor import Monitoring

SHIFT = {"body_mass_g": 1200.0}
UNSEEN = {"island": 0.03}
MISSING_SEX = 0.03  # the bundled data's share of penguins of unknown sex, so only the shift differs
BATCH = 100
AFTER_ROWS = 200
RUN = "loopline lifecycle"  # the run its own monitor calls are recorded under


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `lifecycle` subcommand to the `loopline` command."""
    parser = subparsers.add_parser("lifecycle",
                                   help="traffic -> monitoring -> drift -> retraining -> redeploy, locally")
    parser.add_argument("--model-repository", default=str(paths.MODEL_REPOSITORY))
    parser.add_argument("--registry", default=str(paths.REGISTRY))
    parser.add_argument("--prediction-log", default=str(paths.PREDICTION_LOG))
    parser.add_argument("--pipeline-root", type=Path, default=paths.PIPELINE_ROOT)
    parser.add_argument("--model", default="penguins")
    parser.add_argument("--rows", type=int, default=2000, help="rows of traffic in each phase")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of the retraining run")
    parser.set_defaults(func=run_lifecycle)


def _say(stage: str, text: str) -> None:
    print(f"{output.PREFIX} lifecycle: {stage:<10} {text}", flush=True)


def _send(url: str, model: str, rows: list[dict[str, Any]]) -> list[str]:
    """The rows over V1 in batches of BATCH, every other batch over V2; any non-200 answer is an error. Returns each
    row's inference id (`<the answer's request id>:<row in the request>`, as the prediction log names it)."""
    from components.lib.serving import call

    ids: list[str] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        if (start // BATCH) % 2:
            names = list(batch[0])
            body = {"inputs": [{"name": n, "shape": [len(batch)], "data": [r[n] for r in batch],
                                "datatype": "BYTES" if any(isinstance(r[n], str) for r in batch) else "FP64"}
                               for n in names]}
            status, answer = call(f"{url}/v2/models/{model}/infer", body)
        else:
            status, answer = call(f"{url}/v1/models/{model}:predict", {"instances": batch})
        if status != 200:
            raise LooplineInputError(f"the predictor answered {status}: {str(answer)[:300]}")
        ids += [f"{answer['id']}:{row}" for row in range(len(batch))]
    return ids


def _logged(log_uri: str, model: str, since: datetime, rows: int, registry: str) -> dict[str, int]:
    """Rows per version the log holds since `since`, once at least `rows` arrived (the writer flushes every 2 s)."""
    from components.lib.baseline import baseline_at
    from components.lib.registry import PRODUCTION, Registry
    from components.monitor.log_reading import Window, read_served

    baseline = baseline_at(Registry(registry).alias(model, PRODUCTION).uri)
    deadline = time.monotonic() + 30
    while True:
        served = read_served(log_uri, model, Window(since, datetime.now(timezone.utc)), baseline)
        counts = {version: s.rows for version, s in served.items()}
        if sum(counts.values()) >= rows or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def _request_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a CSV without the label, as request rows (a missing value is null), and their labels."""
    import pyarrow.csv as pacsv

    from components.ingest.reading import CSV_NULLS
    from loopline import synthetic

    # As ingest reads it: "NA" is missing in a text column too (else a penguin of unknown sex sends "NA").
    options = pacsv.ConvertOptions(null_values=CSV_NULLS, strings_can_be_null=True)
    table = pacsv.read_csv(path, convert_options=options)
    features = [name for name in table.column_names if name != synthetic.LABEL]
    return table.select(features).to_pylist(), table.column(synthetic.LABEL).to_pylist()


def _like_training(rows: int, seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    """`rows` penguins drawn with replacement from the bundled data: the distribution the model was trained on."""
    import numpy as np

    pool, species = _request_rows(paths.BUNDLED_DATA)
    drawn = np.random.default_rng(seed).integers(0, len(pool), rows)
    return [pool[i] for i in drawn], [species[i] for i in drawn]


def _shifted(rows: int, out: Path, seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    """`rows` generated penguins of a shifted world (labelled, written to `out`: what retraining reads)."""
    from loopline import synthetic

    problems = synthetic.Problems(shift=SHIFT, unseen=UNSEEN, missing_rate=MISSING_SEX, missing_columns=("sex",))
    synthetic.generate(synthetic.fit_profile(paths.BUNDLED_DATA), rows, out, "csv", seed, problems)
    return _request_rows(out)


def run_lifecycle(args: argparse.Namespace) -> int:
    """Run `loopline lifecycle`; 1 when a stage did not end as the loop expects."""
    from components.lib.serving import LocalServer
    from components.monitor.executor import OK, RETRAIN, monitor
    from components.monitor.log_reading import Window
    from components.monitor.performance import PerformanceSettings

    now_labels = PerformanceSettings(maturity_hours=0.0)  # the labels come back at once here
    from loopline.local_runner import run_locally

    work = Path(args.pipeline_root).resolve().parent / "lifecycle"
    work.mkdir(parents=True, exist_ok=True)
    log_uri, registry = uri_io.absolute(args.prediction_log), uri_io.absolute(args.registry)
    logging = ("--prediction_log_uri", log_uri, "--prediction_log_sample_rate", "1.0")
    with LocalServer(Path(args.model_repository).resolve(), args.model, python=str(paths.SERVING_PYTHON),
                     extra_args=logging) as server:
        _say("serve", f"production at {server.url}, every served row logged to {log_uri}")
        start = datetime.now(timezone.utc)
        rows, species = _like_training(args.rows, seed=1)
        ids = _send(server.url, args.model, rows)
        counts = _logged(log_uri, args.model, start, args.rows, registry)
        labelled = _feedback(work / "labels-1.csv", ids, species, args.model, log_uri, registry)
        calm = monitor(log_uri, args.model, registry, Window(start, datetime.now(timezone.utc)), log=lambda _: None,
                       settings=now_labels, run=RUN)
        _say("traffic", f"{sum(counts.values()):,} rows like the training data -> monitor: {calm.decision}: "
                        f"{calm.reason}")
        _say("labels", f"{labelled:,} true species sent back (loopline feedback) -> {_accuracy(calm)}")
        start = datetime.now(timezone.utc)
        rows, species = _shifted(args.rows, work / "shifted-traffic.csv", seed=2)
        ids = _send(server.url, args.model, rows)
        _logged(log_uri, args.model, start, args.rows, registry)
        _feedback(work / "labels-2.csv", ids, species, args.model, log_uri, registry)
        source = work / "shifted-labelled.csv"
        _shifted(args.rows, source, seed=3)
        _say("drift", f"{args.rows:,} rows from a shifted world (body_mass_g +1200 g, 3% unseen islands), half "
                      "of them labelled; the monitoring pipeline runs:")
        ran = run_locally("monitoring", {
            "prediction_log_uri": log_uri, "registry_uri": registry, "model_name": args.model,
            "since": start.isoformat(), "until": datetime.now(timezone.utc).isoformat(),
            "retrain_source": str(source), "retrain_target": "local", "cooldown_hours": 0.0,
            "local_pipeline_root": str(Path(args.pipeline_root).resolve()),
            "overrides": {"epochs": args.epochs, "model_repository": str(Path(args.model_repository).resolve()),
                          "server_url": server.url}}, Path(args.pipeline_root))
        for stage, line in _gates(registry, args.model):
            _say(stage, line)
        start = datetime.now(timezone.utc)
        rows, species = _shifted(AFTER_ROWS, work / "after.csv", seed=4)
        ids = _send(server.url, args.model, rows)
        served = _logged(log_uri, args.model, start, AFTER_ROWS, registry)
        _say("redeploy", f"the server now answers with version(s) {', '.join(sorted(served))} (its prediction log)")
        labelled = _feedback(work / "labels-3.csv", ids, species, args.model, log_uri, registry)
        after = monitor(log_uri, args.model, registry, Window(start, datetime.now(timezone.utc)), log=lambda _: None,
                        settings=now_labels, run=RUN)
        _say("labels", f"{labelled:,} true species of its answers sent back -> {_accuracy(after)}")
    _trace(log_uri, registry, args.model, ids[0])
    return 0 if calm.decision == OK and ran.succeeded and _decided(ran) == RETRAIN else 1


def _trace(log_uri: str, registry_uri: str, model: str, inference_id: str) -> None:
    """One served answer back to its version, that version's lineage and its model card."""
    from components.lib.lineage import lineage
    from components.lib.model_card_store import card_uris
    from components.lib.registry import Registry
    from components.monitor.log_ids import served_row
    from loopline.governance import lineage_lines

    row = served_row(log_uri, model, inference_id)
    if row is None:
        raise LooplineInputError(f"inference id {inference_id} is not in the prediction log {log_uri}")
    registry = Registry(registry_uri)
    version = int(row["model_version"])
    _say("lineage", f"answer {inference_id} came from v{version} (`loopline models lineage {model} --inference-id "
                    f"{inference_id}`):")
    print("\n".join(f"    {line}" for line in lineage_lines(lineage(registry, model, version))), flush=True)
    _say("card", f"model card of v{version}: {card_uris(registry, model, version)[0]}")


def _feedback(path: Path, ids: list[str], species: list[str], model: str, log_uri: str, registry: str) -> int:
    """The true species of every other served row, sent back with `loopline feedback`'s code; the rows stored."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from loopline.feedback import feedback

    pacsv.write_csv(pa.table({"inference_id": ids[::2], "label": species[::2]}), path)
    return feedback(str(path), model, log_uri, registry).batch.rows


def _accuracy(result: Monitoring) -> str:
    """Per version: realized accuracy with its interval beside the estimate, and the estimate's error."""
    parts = []
    for version in result.versions:
        judged = version.performance
        if judged is None or judged.realized is None or judged.estimated_labelled is None:
            continue
        realized, estimated = judged.realized.metrics["accuracy"], judged.estimated_labelled.metrics["accuracy"]
        parts.append(f"v{version.version}: realized accuracy {realized.shown()} on {judged.realized.rows:,} labelled "
                     f"rows, estimated {estimated.value:.3f} ± {judged.estimated_labelled.error:.3f} before them "
                     f"(estimate error {estimated.value - realized.value:+.3f})")
    return "; ".join(parts) or "no version with both a realized and an estimated accuracy"


def _gates(registry_uri: str, model: str) -> list[tuple[str, str]]:
    """What the newest version's gates decided, from the registry's audit log."""
    from components.lib.registry import Registry

    registry = Registry(registry_uri)
    newest = registry.versions(model)[-1].number
    shown = {"approved": "evaluate", "rejected": "evaluate", "deployed": "deploy", "skipped": "deploy",
             "pending_approval": "approval"}
    return [(shown[e.event], f"v{newest} {e.event}: {e.reason}") for e in registry.events(model)
            if e.version == newest and e.event in shown]


def _decided(run: Any) -> str:
    """The monitor step's decision in a finished monitoring run."""
    import json

    found = sorted(Path(run.run_dir).rglob("monitoring.json")) if run.run_dir else []
    return json.loads(found[-1].read_text())["decision"] if found else ""
