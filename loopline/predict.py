"""`loopline predict`: send rows to any V1/V2 endpoint (the local server or a KServe ingress) and print the answers."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from components.errors import LooplineInputError


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `predict` subcommand to the `loopline` command."""
    parser = subparsers.add_parser("predict", help="send rows to a V1/V2 endpoint and print the predictions")
    parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--model", default="", help="default: the server's only model")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="rows to send (a header row; NA or empty = missing)")
    source.add_argument("--json", type=Path, help='a list of {feature: value} objects, or {"instances": [...]}')
    parser.add_argument("--protocol", choices=["v1", "v2"], default="v1")
    parser.add_argument("--token", default="", help="bearer token (a KServe ingress behind auth)")
    parser.add_argument("--host", default="", help="Host header (KServe routes by it: <name>.<namespace>.example.com)")
    parser.set_defaults(func=run_predict)


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.csv:
        import pyarrow.csv as pacsv

        from components.ingest.reading import CSV_NULLS

        table = pacsv.read_csv(args.csv, convert_options=pacsv.ConvertOptions(null_values=CSV_NULLS,
                                                                                strings_can_be_null=True))
        return table.to_pylist()
    loaded = json.loads(args.json.read_text())
    return loaded["instances"] if isinstance(loaded, dict) else loaded


def _v2_body(rows: list[dict[str, Any]]) -> dict:
    """One V2 input per column: BYTES for text columns, FP64 for numbers (null = missing)."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    inputs = []
    for name in names:
        values = [row.get(name) for row in rows]
        text = any(isinstance(v, str) for v in values)
        inputs.append({"name": name, "shape": [len(values)], "datatype": "BYTES" if text else "FP64", "data": values})
    return {"inputs": inputs}


def _served_model(base: str, headers: dict[str, str]) -> str:
    """The server's only model (V1 `GET /v1/models`), when --model is not given; a LooplineInputError otherwise."""
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{base}/v1/models", headers=headers), timeout=60) as answer:
            models = json.loads(answer.read()).get("models", [])
    except (OSError, ValueError, AttributeError) as err:
        raise LooplineInputError(f"cannot list the models of {base} (give --model): {err}") from err
    if len(models) != 1:
        raise LooplineInputError(f"{base} serves {'the models ' + ', '.join(models) if models else 'no model'}: "
                                 "give --model")
    return models[0]


def run_predict(args: argparse.Namespace) -> int:
    """Run `loopline predict`: one JSON answer printed; one clear line and exit 1 on failure."""
    try:
        rows = _rows(args)
    except (OSError, ValueError, KeyError) as err:
        raise LooplineInputError(f"cannot read the rows: {err}") from err
    base = args.url.rstrip("/")
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    if args.host:
        headers["Host"] = args.host
    model = args.model or _served_model(base, headers)
    url, body = ((f"{base}/v1/models/{model}:predict", {"instances": rows}) if args.protocol == "v1"
                 else (f"{base}/v2/models/{model}/infer", _v2_body(rows)))
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            print(json.dumps(json.loads(response.read()), indent=2))
            return 0
    except urllib.error.HTTPError as err:
        print(f"loopline predict: {url} answered {err.code}: {err.read().decode(errors='replace')[:2000]}",
              file=sys.stderr)
    except (urllib.error.URLError, OSError) as err:
        print(f"loopline predict: cannot reach {url}: {err}", file=sys.stderr)
    return 1
