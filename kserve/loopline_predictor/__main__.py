"""Start the loopline predictor: `python -m loopline_predictor --model_dir DIR [kserve options]`.

DIR (a local folder or gs://) is one model bundle (served as --model_name) or a model repository:
a folder of bundles, each served under its folder's name.
"""

from __future__ import annotations

import argparse
import gc
import logging
from pathlib import Path

from kserve.logging import KSERVE_TRACE_LOGGER_NAME

from components.lib import uri as uri_io
from components.lib.bundle import FEATURE_SPEC_FILE
from kserve import model_server
from loopline_predictor.binding import KSERVE_HOST, BoundModelServer
from loopline_predictor.http_guard import HttpGuard
from loopline_predictor.prediction_log import PredictionLogger
from loopline_predictor.repository import BundleRepository, BundleRepositoryExtension

BYTES_PER_ROW = 4096  # the default body limit per row of the batch limit: ~20x a penguins row as JSON


def build_parser() -> argparse.ArgumentParser:
    """KServe's standard server options plus ours."""
    parser = argparse.ArgumentParser(parents=[model_server.parser], description=__doc__)
    parser.add_argument("--model_dir", required=True, help="a model bundle, or a folder of bundles")
    parser.add_argument("--max_batch_size", type=int, default=1024, help="rows per request, at most")
    parser.add_argument("--max_body_bytes", type=int, default=0,
                        help="request bodies over this are refused with 413 before parsing "
                             f"(0: {BYTES_PER_ROW:,} bytes per row of --max_batch_size)")
    parser.add_argument("--max_latency_ms", type=float, default=0.0,
                        help="micro-batching: also wait up to this long for concurrent requests "
                             "(0: batch only what queues while the model is busy)")
    parser.add_argument("--http_host", default=KSERVE_HOST,
                        help="the address the REST socket binds (KServe's 0.0.0.0: every interface; 127.0.0.1: "
                             "this machine only, with --enable_grpc false, since gRPC binds every interface)")
    parser.add_argument("--no_repository_api", action="store_true",
                        help="turn the V2 repository API (load/unload: hot reload) off; 404 on its paths")
    parser.add_argument("--prediction_log_uri", default="", help="log sampled predictions here (folder or gs://)")
    parser.add_argument("--prediction_log_sample_rate", type=float, default=0.1, help="share of rows logged")
    parser.add_argument("--prediction_log_spool", type=Path, default=None,
                        help="local folder keeping log batches while the store is down (default: under the temp "
                             "folder; mount a volume to keep them across pod restarts)")
    parser.add_argument("--prediction_log_queue_rows", type=int, default=100_000,
                        help="sampled rows held in memory for the log at most; more are dropped and counted")
    # Per-request log lines (KServe's latency line and its timing middleware's two) cost ~10% of a
    # small request's time; /metrics has the same figures. Off unless asked for.
    parser.set_defaults(enable_latency_logging=False)
    return parser


def bundle_names(model_dir: str) -> list[str]:
    """Names of the bundles in a model repository folder (local or gs://), sorted."""
    return [name for name in uri_io.list_dirs(model_dir)
            if uri_io.exists(uri_io.join(model_dir, name, FEATURE_SPEC_FILE))]


def repository_for(model_dir: str, model_name: str, max_batch_size: int,
                   prediction_log: PredictionLogger | None = None, max_latency_ms: float = 0.0) -> BundleRepository:
    """A repository serving one bundle (as `model_name`) or every bundle of a model repository folder."""
    if uri_io.exists(uri_io.join(model_dir, FEATURE_SPEC_FILE)):
        parent = model_dir.rstrip("/").rsplit("/", 1)[0]
        return BundleRepository(parent, max_batch_size, {model_name: model_dir}, prediction_log, max_latency_ms)
    if not bundle_names(model_dir):
        raise SystemExit(f"loopline-predictor: no model bundle in {model_dir}")
    return BundleRepository(model_dir, max_batch_size, prediction_log=prediction_log, max_latency_ms=max_latency_ms)


def main() -> None:
    """Load every model, then serve them with kserve.ModelServer (hot reload through its repository API)."""
    args, _ = build_parser().parse_known_args()
    model_dir = uri_io.absolute(args.model_dir)
    prediction_log = (PredictionLogger(args.prediction_log_uri, args.prediction_log_sample_rate,
                                       spool_dir=args.prediction_log_spool,
                                       max_queue_rows=args.prediction_log_queue_rows)
                      if args.prediction_log_uri else None)
    repository = repository_for(model_dir, args.model_name, args.max_batch_size, prediction_log,
                                args.max_latency_ms)
    for name in list(repository.paths) or bundle_names(model_dir):
        repository.load_model(name)
    # TensorFlow and the loaded models leave millions of long-lived objects that every full garbage
    # collection would walk again, stalling requests for tens of ms: keep them out of collections.
    gc.collect()
    gc.freeze()
    limit = args.max_body_bytes or args.max_batch_size * BYTES_PER_ROW
    # KServe's own app, before it starts.
    model_server.app.add_middleware(HttpGuard, max_body_bytes=limit, repository_api=not args.no_repository_api)
    server = BoundModelServer(http_host=args.http_host, registered_models=repository)
    server.model_repository_extension = BundleRepositoryExtension(repository)  # before start() hands it out
    if not args.enable_latency_logging:  # after the server configured logging: silence the per-request lines
        logging.getLogger(KSERVE_TRACE_LOGGER_NAME).setLevel(logging.WARNING)
    server.start(list(repository.get_models().values()))


if __name__ == "__main__":
    main()
