"""`loopline models approve|reject|lineage|card`: the human approval gate, a version's lineage, its model card.

approve: a version recorded `pending_approval` (approval "manual", every gate passed) is approved by a named person
and deployed where its run would have deployed it (or where the options say), as `models promote` does. A version
that failed a gate, or is not waiting, is refused. lineage: data -> validation -> training -> evaluation ->
approval -> deployments -> monitoring windows -> retraining, from the registry alone (`--json` for machines);
`--inference-id` starts from one served answer in the prediction log. card: the version's model card files.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, Callable

from components.errors import LooplineInputError
from components.lib import registry as reg
from components.lib import uri as uri_io
from components.lib.registry_records import RegistryError
from loopline import output, paths

if TYPE_CHECKING:
    from components.deploy.executor import Destination

_SUMMARY_LENGTH = 160
Action = Callable[[reg.Registry, argparse.Namespace], int]  # a `models` subcommand, given the opened registry


def _destination(args: argparse.Namespace) -> Destination | None:
    """Where the options say to serve the version, or None: where its run would have (the pending event's)."""
    from components.deploy.executor import Destination
    from components.deploy.inference_service import ServiceSettings

    if args.kserve_namespace:
        return Destination("kserve", settings=ServiceSettings(namespace=args.kserve_namespace),
                           rollout_timeout=args.rollout_timeout)
    if args.model_repository or args.server_url:
        return Destination("local", uri_io.absolute(args.model_repository) if args.model_repository else "",
                           args.server_url)
    return None


def _approve(registry: reg.Registry, args: argparse.Namespace) -> int:
    from components.deploy.approval import approve

    result = approve(registry, args.model, args.version, args.by, args.reason, args.run, _destination(args),
                     log=lambda _: None)
    print(f"loopline: {args.model} version {args.version} approved by {args.by} and deployed: {result.reason}")
    return 0


def _reject(registry: reg.Registry, args: argparse.Namespace) -> int:
    from components.deploy.approval import reject

    reject(registry, args.model, args.version, args.by, args.reason, args.run)
    print(f"loopline: {args.model} version {args.version} rejected by {args.by}; it will not be deployed")
    return 0


def _short(text: str) -> str:
    return text if len(text) <= _SUMMARY_LENGTH else text[:_SUMMARY_LENGTH - 3] + "..."


def _when(event: dict[str, Any]) -> str:
    return f"{output.short_time(event['time'])}  run {event['run'] or '-'}"


def lineage_lines(chain: dict[str, Any]) -> list[str]:
    """The lineage as text, one stage a line (long reasons shortened; --json has them whole)."""
    data, evaluation = chain["data"], chain["evaluation"]
    head = f"{chain['model']} v{chain['version']}" + ("  (production: serving)" if chain["served"] else "")
    rows = f"{data['train_rows'] if data['train_rows'] is not None else '?'} train / " \
           f"{data['eval_rows'] if data['eval_rows'] is not None else '?'} eval rows"
    lines = [head, f"  data        {', '.join(data['source_uris']) or '(source not recorded)'}  "
                   f"{data['data_hash'] or '(no hash)'}  {rows}"]
    validation = chain["validation"]
    lines.append(f"  validation  run {validation['run']}: " + (
        ("data OK: " if validation.get("data_ok") else "data NOT OK: ") + _short(validation.get("reason", ""))
        if "data_ok" in validation else "not recorded (registered before lineage was kept)"))
    trigger = chain["trigger"]
    if trigger:
        window = (trigger.get("window") or {})
        lines.append(f"  trigger     monitoring run {trigger.get('monitoring_run', '?')}"
                     + (f", window {window['details'].get('window')} ({window['details'].get('rows', 0):,} rows, "
                        f"v{window['version']})" if window else "") + f": {_short(trigger.get('reason', ''))}")
    lines.append(f"  training    run {chain['training']['run']}, code {chain['training']['code_version'] or '?'}; "
                 f"registered {output.short_time(chain['registered']['time'])}")
    against = evaluation["against_production_version"]
    lines.append(f"  evaluation  {output.short_time(evaluation['time']) if evaluation['time'] else '-'} against "
                 f"{f'production v{against}' if against else 'no production model'}: "
                 f"{'approved' if evaluation['approved'] else 'NOT approved'}: {_short(evaluation['reason'])}")
    for gate in chain["gates"]:
        lines.append(f"  gate        {_when(gate)}: skipped: {_short(gate['reason'])}")
    lines += [f"  approval    {_when(e)}: {e['event']}" + (f" by {e['details']['by']}" if e["details"].get("by")
                                                            else "") + f": {_short(e['reason'])}"
              for e in chain["approval"]] or ["  approval    auto (no person asked)"]
    lines += [f"  {e['event']:<11} {_when(e)}: {_short(e['reason'])}" if e["version"] == chain["version"] else
              f"  replaced    {_when(e)}: by v{e['version']} ({e['event']})" for e in chain["deployments"]] \
        or ["  deployed    never"]
    for window in chain["monitoring"]:
        seen, facts = window["window"], window["window"]["details"]
        lines.append(f"  monitored   {_when(seen)}: window {facts.get('window')}, {facts.get('rows', 0):,} rows: "
                     f"{facts.get('decision')}: {_short(seen['reason'])}")
        retraining = window.get("retraining")
        if retraining:
            made = ", ".join(f"v{n}" for n in window["produced"]) or "no version yet"
            lines.append(f"    -> {retraining['event']}: {_short(retraining['reason'])}; produced {made}")
    return lines


def _which(registry: reg.Registry, args: argparse.Namespace) -> int:
    """The version asked for: a number, the served one (production), or the one that answered an inference id."""
    if sum((args.version is not None, args.served, bool(args.inference_id))) > 1:
        raise LooplineInputError("give one of VERSION, --served and --inference-id")
    if args.inference_id:
        from components.monitor.log_ids import served_row

        row = served_row(uri_io.absolute(args.prediction_log), args.model, args.inference_id)
        if row is None:
            raise LooplineInputError(f"inference id {args.inference_id!r} is not in the prediction log of "
                                     f"{args.model!r} under {args.prediction_log}")
        version = str(row.get("model_version", ""))
        if not version.isdigit():
            raise LooplineInputError(f"inference id {args.inference_id!r} was answered by {version!r}, which is "
                                     "not a registry version (a bundle served outside the registry)")
        print(f"loopline: inference id {args.inference_id} was answered at {row.get('time')} by "
              f"{args.model} v{version}: {json.dumps(row.get('outputs'), sort_keys=True)}")
        return int(version)
    if args.version is not None:
        return args.version
    production = registry.alias(args.model, reg.PRODUCTION)
    if production is None:
        raise RegistryError(f"model {args.model!r} has no production (served) version; name a version")
    return production.number


def _lineage(registry: reg.Registry, args: argparse.Namespace) -> int:
    from components.lib.lineage import lineage

    chain = lineage(registry, args.model, _which(registry, args))
    print(json.dumps(chain, indent=2, sort_keys=True) if args.json else "\n".join(lineage_lines(chain)))
    return 0


def _card(registry: reg.Registry, args: argparse.Namespace) -> int:
    from components.lib.model_card_store import write_card

    number = _which(registry, args)
    html_uri, markdown_uri = write_card(registry, args.model, number)
    print(f"loopline: model card of {args.model} v{number}: {html_uri} (Markdown: {markdown_uri})")
    return 0


def add_parsers(actions: argparse._SubParsersAction, common: argparse.ArgumentParser,
                changes: argparse.ArgumentParser, serving: argparse.ArgumentParser,
                wrap: Callable[[Action], Callable[[argparse.Namespace], int]]) -> None:
    """Add approve, reject, lineage and card to the `loopline models` subcommands (`wrap` opens the registry)."""
    from loopline.arguments import version_number

    decided = argparse.ArgumentParser(add_help=False)
    decided.add_argument("model")
    decided.add_argument("version", type=version_number)
    decided.add_argument("--by", required=True, metavar="WHO", help="who decides (recorded in the audit log)")
    approve = actions.add_parser("approve", parents=[common, changes, serving, decided],
                                 help="approve a version pending approval and deploy it")
    approve.set_defaults(func=wrap(_approve))
    reject = actions.add_parser("reject", parents=[common, changes, decided],
                                help="reject a version pending approval (it is never deployed by approval)")
    reject.set_defaults(func=wrap(_reject))

    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("model")
    which.add_argument("version", nargs="?", type=version_number, help="default: the served (production) version")
    which.add_argument("--served", action="store_true", help="the served (production) version (the default)")
    which.add_argument("--inference-id", default="", metavar="ID",
                       help="the version that answered this served row (found in the prediction log)")
    which.add_argument("--prediction-log", default=str(paths.PREDICTION_LOG), metavar="URI",
                       help=f"with --inference-id: the prediction log (default {paths.PREDICTION_LOG})")
    lineage = actions.add_parser("lineage", parents=[common, which],
                                 help="data -> validation -> training -> evaluation -> approval -> deployments -> "
                                      "monitoring -> retraining of a version")
    lineage.add_argument("--json", action="store_true", help="the whole chain as JSON")
    lineage.set_defaults(func=wrap(_lineage))
    card = actions.add_parser("card", parents=[common, which], help="write the version's model card (HTML, Markdown)")
    card.set_defaults(func=wrap(_card))
