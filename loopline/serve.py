"""`loopline serve`: the local predictor on the model repository, in the foreground or as a smoke run.

`--smoke` starts it, sends sample rows of the bundled data over V1 and V2, asks for one
explanation and sends one malformed request, prints the answers and stops it: the last step of
`make run`.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import signal
import subprocess
import sys
from pathlib import Path

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.bundle import CATEGORICAL, read_bundle
from components.lib.serving import LocalServer, call, serving_python
from loopline import paths

PR_SET_PDEATHSIG = 1  # prctl(2)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand to the `loopline` command."""
    parser = subparsers.add_parser("serve", help="serve the model repository with the local KServe predictor")
    parser.add_argument("--model-repository", default=str(paths.MODEL_REPOSITORY),
                        help="a folder or gs:// URI of bundles")
    parser.add_argument("--prediction-log", default="", help="log sampled predictions to this folder or gs:// URI")
    parser.add_argument("--sample-rate", type=float, default=0.1, help="share of predicted rows logged")
    parser.add_argument("--model", default="penguins", help="the model the smoke run calls")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on: loopback (default: this machine only), or another, such "
                             "as 0.0.0.0 for every interface (REST and gRPC; there is no authentication)")
    parser.add_argument("--no-repository-api", action="store_true",
                        help="turn the load/unload API off (hot reload by `deploy --server-url` needs it)")
    parser.add_argument("--smoke", action="store_true", help="start, send V1 and V2 sample requests, print, stop")
    parser.add_argument("--rows", type=int, default=3, help="sample rows the smoke run sends")
    parser.set_defaults(func=run_serve)


def _python() -> str:
    return str(paths.SERVING_PYTHON) if paths.SERVING_PYTHON.exists() else serving_python()


def _samples(spec_names: list[str], rows: int) -> list[dict]:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(paths.BUNDLED_DATA, convert_options=pacsv.ConvertOptions(null_values=["NA", ""],
                                                                                       strings_can_be_null=True))
    complete = [r for r in table.select(spec_names).to_pylist() if None not in r.values()]
    return complete[:: max(1, len(complete) // rows)][:rows]


def _show(title: str, request: dict, status: int, answer: object) -> None:
    print(f"\n{title} -> HTTP {status}")
    print("  request: " + json.dumps(request)[:400])
    print("  answer:  " + json.dumps(answer)[:1200])


def smoke(repository: Path, model: str, rows: int) -> int:
    """Start the server, call V1, V2 and explain with sample rows and one bad request, print, stop;
    non-zero when an answer is not the expected status."""
    spec, metadata = read_bundle(repository / model)
    samples = _samples(spec.names, rows)
    v1 = {"instances": samples}
    v2 = {"inputs": [{"name": f.name, "shape": [len(samples)], "datatype": "BYTES" if f.kind == CATEGORICAL else "FP32",
                      "data": [r[f.name] for r in samples]} for f in spec.features]}
    print(f"loopline serve: starting the predictor on {repository} (model {model!r}, trained {metadata.get('time')})")
    with LocalServer(repository, model, python=_python()) as server:
        print(f"loopline serve: ready at {server.url}")
        statuses = []
        for title, url, body in (
            ("V1 predict", f"{server.url}/v1/models/{model}:predict", v1),
            ("V2 infer", f"{server.url}/v2/models/{model}/infer", v2),
            ("V1 explain (integrated gradients)", f"{server.url}/v1/models/{model}:explain",
             {"instances": samples[:1]}),
            ("V1 predict with a mistyped feature (must be 400)", f"{server.url}/v1/models/{model}:predict",
             {"instances": [{**samples[0], spec.names[-1]: [1, 2]}]}),
        ):
            status, answer = call(url, body)
            _show(title, body, status, answer)
            statuses.append(status)
    print("\nloopline serve: stopped")
    return 0 if statuses == [200, 200, 200, 400] else 1


def run_serve(args: argparse.Namespace) -> int:
    """Run `loopline serve`."""
    if args.smoke:
        repository = Path(args.model_repository)
        if uri_io.is_gcs(args.model_repository) or not (repository / args.model).exists():
            raise LooplineInputError(f"no model {args.model!r} in the local folder {args.model_repository}: run the "
                                     "training pipeline first (make run); --smoke reads a local model repository")
        return smoke(repository, args.model, args.rows)
    logging = (["--prediction_log_uri", args.prediction_log, "--prediction_log_sample_rate", str(args.sample_rate)]
               if args.prediction_log else [])
    api = ["--no_repository_api"] if args.no_repository_api else []
    if args.host in LOOPBACK_HOSTS:
        exposure = ["--http_host", args.host, "--enable_grpc", "false"]  # KServe's gRPC binds every interface
    else:
        exposure = ["--http_host", args.host]
        print(f"loopline serve: warning: --host {args.host}: the predictor answers whoever reaches that address "
              "(and gRPC on port 8081 of every interface), with no authentication", file=sys.stderr)
    return foreground([_python(), "-m", "loopline_predictor", "--model_dir", args.model_repository,
                       "--http_port", str(args.port), *logging, *api, *exposure])


def _die_with_parent() -> None:
    """In the child, before exec (Linux): the kernel sends it SIGTERM when this process dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def foreground(command: list[str], grace_seconds: float = 30) -> int:
    """Run the predictor until it exits; on SIGTERM, SIGINT or SIGHUP to this process, or any error here, stop
    it (SIGTERM, then SIGKILL after `grace_seconds`) and wait for it, so no predictor outlives the command."""
    child = subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
