"""The human approval gate: a version that passed every gate under approval "manual" waits, recorded
`pending_approval`; a person approves it (it is then deployed where the run would have deployed it) or rejects it.

Refused, with the reason: a version that failed a gate (evaluation, infra validation, canary), one never waiting for
approval, one already decided, and one judged against a production version that is no longer production (it was
never compared with what it would replace). Every decision is an audit event naming who made it.
"""

from __future__ import annotations

from typing import Callable

from components.deploy.executor import DeployResult, Destination, release
from components.errors import LooplineInputError
from components.lib.model_card_store import write_card
from components.lib.registry import PRODUCTION, Registry
from components.lib.registry_audit import (
    APPROVAL_GRANTED,
    APPROVAL_REJECTED,
    DEPLOYED,
    PENDING_APPROVAL,
    REJECTED,
    SKIPPED,
    Event,
)


class ApprovalRefused(LooplineInputError):
    """The version cannot be approved or rejected now; the message says why."""


def waiting(registry: Registry, model: str, version: int) -> Event:
    """The version's `pending_approval` event, if it is still waiting for a person; else ApprovalRefused saying why."""
    registry.version(model, version)
    events = [e for e in registry.events(model) if e.version == version]
    failed = [e for e in events if e.event in (SKIPPED, REJECTED)]
    if failed:
        raise ApprovalRefused(f"{model} v{version} failed a gate ({failed[-1].reason}); only a version that passed "
                              "every gate can be approved")
    pending = [i for i, e in enumerate(events) if e.event == PENDING_APPROVAL]
    if not pending:
        raise ApprovalRefused(f"{model} v{version} is not waiting for approval (no pending_approval event: it was "
                              "deployed with approval 'auto', or its deploy step never ran)")
    later = events[pending[-1] + 1:]
    rejected = [e for e in later if e.event == APPROVAL_REJECTED]
    if rejected:
        who = rejected[-1].details.get("by", "?")
        raise ApprovalRefused(f"{model} v{version} was rejected by {who} at {rejected[-1].time}: "
                              f"{rejected[-1].reason}")
    granted = [i for i, e in enumerate(later) if e.event == APPROVAL_GRANTED]
    if granted and any(e.event == DEPLOYED for e in later[granted[-1]:]):
        who = later[granted[-1]].details.get("by", "?")
        raise ApprovalRefused(f"{model} v{version} was already approved by {who} at {later[granted[-1]].time} "
                              "and deployed")
    return events[pending[-1]]


def held_for_a_person(registry: Registry, model: str, version: int) -> str:
    """Why `loopline models promote` must not bypass a person: the version waits for approval or a person rejected
    it ("" otherwise)."""
    decided = [e for e in registry.events(model)
               if e.version == version and e.event in (PENDING_APPROVAL, APPROVAL_GRANTED, APPROVAL_REJECTED)]
    if not decided or decided[-1].event == APPROVAL_GRANTED:
        return ""
    last = decided[-1]
    if last.event == APPROVAL_REJECTED:
        return f"{model} v{version} was rejected by {last.details.get('by', '?')} at {last.time}: {last.reason}"
    return f"{model} v{version} is pending approval since {last.time}"


def _still_comparable(registry: Registry, model: str, version: int) -> None:
    """ApprovalRefused when production moved since the version was evaluated against it."""
    judged_against = (registry.registration(model, version).get("info") or {}).get("production_version")
    production = registry.alias(model, PRODUCTION)
    now = production.number if production else None
    if now != judged_against and now != version:
        against = f"production v{judged_against}" if judged_against else "no production model"
        raise ApprovalRefused(f"{model} v{version} was evaluated against {against}, but production is now v{now}: "
                              "it was never compared with the model it would replace; train or evaluate it again")


def _require(by: str, reason: str) -> None:
    if not by.strip():
        raise ApprovalRefused("an approval decision needs --by: who decides (it goes into the audit log)")
    if not reason.strip():
        raise ApprovalRefused("an approval decision needs --reason (it goes into the audit log)")


def approve(registry: Registry, model: str, version: int, by: str, reason: str, run: str,
            destination: Destination | None = None, log: Callable[[str], None] = print) -> DeployResult:
    """Record `approval_granted` by `by` and deploy the version (at `destination`, else where its run would have)."""
    _require(by, reason)
    pending = waiting(registry, model, version)
    _still_comparable(registry, model, version)
    where = destination or Destination.from_dict(pending.details)
    registry.record(model, APPROVAL_GRANTED, version, run, reason, {"by": by})
    return release(registry, model, version, run, f"approved by {by}: {reason}", where, log)


def reject(registry: Registry, model: str, version: int, by: str, reason: str, run: str) -> Event:
    """Record `approval_rejected` by `by`: the version is never deployed by approval."""
    _require(by, reason)
    waiting(registry, model, version)
    event = registry.record(model, APPROVAL_REJECTED, version, run, reason, {"by": by})
    write_card(registry, model, version)
    return event
