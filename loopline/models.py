"""`loopline models list|show|promote|rollback|history` (and approve|reject|lineage|card, `governance`): read and
change the model registry.

Errors (a bad name, an unknown version or alias, nothing to roll back to, an unreachable
registry, a rollout that did not become Ready) are the project's own types: `loopline` prints them
as one line on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
from dataclasses import asdict
from typing import Callable

from components.lib import registry as reg
from components.lib import uri as uri_io
from components.lib.registry_records import RegistryError, check_name
from loopline import governance, output, paths
from loopline.arguments import version_number

DEFAULT_REGISTRY = str(paths.REGISTRY)
DEFAULT_METRIC = "accuracy"


def cli_run_id() -> str:
    """The run recorded for changes made from the command line: `cli:<user>@<host>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry / no login name (containers)
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


def _metric(info: dict, name: str) -> str:
    value = (info.get("metrics") or {}).get(name) if isinstance(info.get("metrics"), dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def _pointing(aliases: dict[str, dict], number: int) -> list[str]:
    return sorted(name for name, record in aliases.items() if record.get("version") == number)


def _list(registry: reg.Registry, args: argparse.Namespace) -> int:
    models = [check_name(args.model, "model")] if args.model else registry.models()
    rows = []
    for model in models:
        aliases = registry.aliases(model)
        for version in registry.versions(model):
            rows.append([model, str(version.number), output.short_time(version.time), version.run,
                         ",".join(_pointing(aliases, version.number)) or "-", _metric(version.info, args.metric)])
    if not rows and args.model:
        raise RegistryError(f"model {args.model!r} has no versions in registry {registry.root}")
    if not rows:
        print(f"loopline: no models registered in {registry.root}")
        return 0
    print(output.table(["MODEL", "VERSION", "TIME", "RUN", "ALIASES", args.metric.upper()], rows))
    return 0


def _resolve(registry: reg.Registry, model: str, which: str | None) -> reg.Version:
    """A version by number, by alias, or (none given) production, else the newest."""
    if which is None:
        version = registry.alias(model, reg.PRODUCTION)
        if version is None:
            versions = registry.versions(model)
            if not versions:
                raise RegistryError(f"model {model!r} has no versions in registry {registry.root}")
            version = versions[-1]
        return version
    if which.isdigit():
        return registry.version(model, int(which))
    version = registry.alias(model, which)
    if version is None:
        raise RegistryError(f"model {model!r} has no alias {which!r} (aliases: "
                            f"{', '.join(sorted(registry.aliases(model))) or 'none'})")
    return version


def _show(registry: reg.Registry, args: argparse.Namespace) -> int:
    version = _resolve(registry, args.model, args.version)
    aliases = registry.aliases(args.model)
    document = {
        "registration": {**registry.registration(args.model, version.number), "uri": version.uri},
        "aliases": aliases,
        "points_here": _pointing(aliases, version.number),
        "events": [asdict(e) for e in registry.events(args.model) if e.version in (version.number, None)],
    }
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0


def _serve(registry: reg.Registry, args: argparse.Namespace, version: int) -> None:
    """Serve `version` where the options say (local model repository / server, or KServe) before the
    aliases move, so a failed rollout leaves production as it was; nothing when no option is given."""
    if not (args.model_repository or args.server_url or args.kserve_namespace):
        return
    from components.deploy.executor import serve_version
    from components.deploy.inference_service import ServiceSettings

    if args.kserve_namespace:
        served = serve_version(registry, args.model, version, "kserve", settings=ServiceSettings(
            namespace=args.kserve_namespace), timeout=args.rollout_timeout)
    else:
        served = serve_version(registry, args.model, version, "local", uri_io.absolute(args.model_repository),
                               args.server_url)
    print(f"loopline: served: {served}")


def _canary_note(args: argparse.Namespace) -> str:
    """The canary verdict's word on this promotion (refused on `roll back` or `hold` without --force), or ""."""
    if not args.monitoring:
        return ""
    from components.monitor.canary import promotion_note, read_verdict

    return promotion_note(read_verdict(uri_io.absolute(args.monitoring)), args.version, args.force)


def _promote(registry: reg.Registry, args: argparse.Namespace) -> int:
    from components.deploy.approval import held_for_a_person
    from components.lib.model_card_store import write_card

    before = registry.alias(args.model, reg.PRODUCTION)
    registry.version(args.model, args.version)  # an unknown version fails before anything is served
    held = held_for_a_person(registry, args.model, args.version)
    if held and not args.force:
        raise RegistryError(f"{held}: use `loopline models approve` (or promote with --force, recorded)")
    note = "; ".join(n for n in (_canary_note(args), f"promoted with --force: {held}" if held else "") if n)
    _serve(registry, args, args.version)
    registry.promote(args.model, args.version, args.run, f"{args.reason}; {note}" if note else args.reason)
    write_card(registry, args.model, args.version)
    previous = registry.alias(args.model, reg.PREVIOUS)
    if before is not None and before.number == args.version:
        print(f"loopline: {args.model} version {args.version} is already production (recorded)")
    else:
        print(f"loopline: {args.model} version {args.version} is production; previous: "
              f"{previous.number if previous else 'none'}")
    return 0


def _rollback(registry: reg.Registry, args: argparse.Namespace) -> int:
    from components.lib.model_card_store import write_card

    before = registry.alias(args.model, reg.PRODUCTION)
    target = registry.alias(args.model, reg.PREVIOUS)  # what rollback restores (None: it refuses below)
    if target is not None:
        _serve(registry, args, target.number)
    restored = registry.rollback(args.model, args.run, args.reason)
    for number in {restored.number, before.number if before else restored.number}:
        write_card(registry, args.model, number)
    previous = registry.alias(args.model, reg.PREVIOUS)
    print(f"loopline: {args.model} rolled back from version {before.number if before else '?'} to version "
          f"{restored.number}; previous: {previous.number if previous else 'none'}")
    return 0


def _history(registry: reg.Registry, args: argparse.Namespace) -> int:
    events = registry.events(args.model)
    if not events:
        raise RegistryError(f"model {args.model!r} has no events in registry {registry.root}")
    rows = [[output.short_time(e.time), e.event, "-" if e.version is None else str(e.version), e.run, e.reason,
             json.dumps(e.details, sort_keys=True) if e.details else ""] for e in events]
    print(output.table(["TIME", "EVENT", "VERSION", "RUN", "REASON", "DETAILS"], rows))
    return 0


def _with_registry(action: Callable[[reg.Registry, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return action(reg.Registry(args.registry), args)

    return run


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand (list, show, promote, rollback, history, approve, reject, lineage, card) to the
    ``loopline`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", default=DEFAULT_REGISTRY, metavar="URI",
                        help=f"registry root: a local folder or gs://bucket/prefix (default {DEFAULT_REGISTRY})")
    changes = argparse.ArgumentParser(add_help=False)
    changes.add_argument("--reason", required=True, help="why (recorded in the audit log)")
    changes.add_argument("--run", default=cli_run_id(),
                         help="run recorded with the change (default: cli:<user>@<host>)")

    models = subparsers.add_parser("models", help="list, inspect, promote and roll back registered models",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = models.add_subparsers(dest="models_command", required=True)

    listing = actions.add_parser("list", parents=[common], help="registered versions with time, run, aliases, a metric")
    listing.add_argument("--model", help="only this model")
    listing.add_argument("--metric", default=DEFAULT_METRIC, help=f"metric column from info['metrics'] "
                                                                  f"(default {DEFAULT_METRIC})")
    listing.set_defaults(func=_with_registry(_list))

    show = actions.add_parser("show", parents=[common],
                              help="one version as JSON: registration, aliases, its audit events")
    show.add_argument("model")
    show.add_argument("version", nargs="?", metavar="VERSION|ALIAS",
                      help="a version number or alias (default: production, else the newest)")
    show.set_defaults(func=_with_registry(_show))

    serving = argparse.ArgumentParser(add_help=False)
    where = serving.add_argument_group("serve the version as well (else only the registry's aliases move)")
    where.add_argument("--model-repository", default="", metavar="DIR",
                       help="place its bundle here (a folder or gs://)")
    where.add_argument("--server-url", default="", help="and ask this local predictor to load it")
    where.add_argument("--kserve-namespace", default="", metavar="NS",
                       help="apply its InferenceService in NS and wait for Ready (kubeconfig or in-cluster)")
    where.add_argument("--rollout-timeout", type=float, default=600.0, help="seconds to wait for Ready")

    promote = actions.add_parser("promote", parents=[common, changes, serving],
                                 help="make a version production (the old production becomes previous)")
    promote.add_argument("model")
    promote.add_argument("version", type=version_number)
    promote.add_argument("--monitoring", default="", metavar="URI",
                         help="a monitoring result (monitoring.json or its folder): refuse unless its canary verdict "
                              "for this version is promote")
    promote.add_argument("--force", action="store_true",
                         help="promote whatever the canary verdict says, or a version held for approval (recorded)")
    promote.set_defaults(func=_with_registry(_promote))

    rollback = actions.add_parser("rollback", parents=[common, changes, serving],
                                  help="make the previous production version production again")
    rollback.add_argument("model")
    rollback.set_defaults(func=_with_registry(_rollback))

    history = actions.add_parser("history", parents=[common], help="the model's audit log, oldest first")
    history.add_argument("model")
    history.set_defaults(func=_with_registry(_history))
    governance.add_parsers(actions, common, changes, serving, _with_registry)
