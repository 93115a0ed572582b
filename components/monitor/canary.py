"""Canary vs stable: two versions that served the same window, side by side, and a verdict others can act on.

The newer version (higher number) is the canary, the one with most traffic among the older ones
the stable. The verdict compares their headline metric (accuracy; RMSE for regression), realized
when both have `min_labels` labelled rows, else estimated when both calibrations hold: the canary's
lead over the stable with a 95% interval (the two intervals' half-widths added in quadrature).
`roll back` when the whole interval says the canary is worse; `promote` when it says the canary is
at most `tolerance` worse; `hold` when the evidence allows neither. `loopline models promote`
reads it from monitoring.json (CANARY_KEY) and refuses a `roll back` or `hold` without --force.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.monitor.intervals import Interval
from components.monitor.realized import HIGHER_IS_BETTER

if TYPE_CHECKING:
    from components.monitor.performance import Performance

PROMOTE, HOLD, ROLL_BACK = "promote", "hold", "roll back"
CANARY_KEY = "canary"


@dataclass(frozen=True)
class Side:
    """One version in the comparison: its traffic share, prediction distribution and headline metrics."""

    version: str
    traffic_share: float
    predictions: dict[str, float]
    realized: Interval | None
    estimated: Interval | None


@dataclass(frozen=True)
class CanaryVerdict:
    """The comparison and what to do about the canary."""

    canary: str
    stable: str
    metric: str
    basis: str  # "realized", "estimated" or "" (no evidence)
    lead: Interval  # canary minus stable (for an error: stable minus canary), so positive is better
    verdict: str
    reason: str
    sides: list[Side] = field(default_factory=list)


def _half_width(found: Interval) -> float:
    return (found.high - found.low) / 2.0 if found.low is not None and found.high is not None else float("inf")


def _lead(metric: str, canary: Interval, stable: Interval) -> Interval:
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    value = sign * (canary.value - stable.value)
    half = float(np.hypot(_half_width(canary), _half_width(stable)))
    return Interval(value, value - half, value + half)


def _evidence(metric: str, canary: Performance, stable: Performance, min_labels: int
              ) -> tuple[str, Interval, Interval] | None:
    """The basis and both intervals: realized when both have enough labels, else estimated when both hold."""
    if all(p.realized is not None and p.realized.rows >= min_labels for p in (canary, stable)):
        return "realized", canary.realized.metrics[metric], stable.realized.metrics[metric]
    estimates = [p.estimated for p in (canary, stable)]
    if metric == "accuracy" and all(e is not None and e.calibration_ok for e in estimates):
        return "estimated", estimates[0].metrics[metric], estimates[1].metrics[metric]
    return None


def compare(versions: dict[str, tuple[float, dict[str, float], Performance]], tolerance: float, min_labels: int
            ) -> CanaryVerdict | None:
    """The verdict for {version: (traffic share, prediction shares, performance)}; None unless two versions."""
    numbered = sorted((v for v in versions if v.isdigit()), key=int)
    if len(numbered) < 2:
        return None
    canary = numbered[-1]
    stable = max(numbered[:-1], key=lambda v: versions[v][0])
    metric = "accuracy" if versions[canary][2].task == "classification" else "rmse"
    sides = [Side(v, versions[v][0], versions[v][1],
                  versions[v][2].realized.metrics[metric] if versions[v][2].realized else None,
                  versions[v][2].estimated.metrics.get(metric) if versions[v][2].estimated else None)
             for v in (canary, stable)]
    found = _evidence(metric, versions[canary][2], versions[stable][2], min_labels)
    if found is None:
        return CanaryVerdict(canary, stable, metric, "", Interval(None), HOLD,
                             f"no evidence yet: neither {min_labels} labelled rows on both nor two calibrated "
                             "estimates", sides)
    basis, ours, theirs = found
    lead = _lead(metric, ours, theirs)
    if lead.high < 0:
        verdict, why = ROLL_BACK, f"v{canary} is worse than v{stable}"
    elif lead.low > -tolerance:
        verdict, why = PROMOTE, f"v{canary} is no worse than v{stable} by more than {tolerance:g}"
    else:
        verdict, why = HOLD, f"the interval allows v{canary} to be worse than v{stable} by more than {tolerance:g}"
    reason = (f"{why}: {basis} {metric} {ours.shown()} vs {theirs.shown()}, lead {lead.value:+.3f} "
              f"[{lead.low:+.3f}, {lead.high:+.3f}]")
    return CanaryVerdict(canary, stable, metric, basis, lead, verdict, reason, sides)


def promotion_verdict(found: dict | None, version: int) -> tuple[bool, str]:
    """Whether a monitoring result's canary block lets `version` be promoted (only a `promote` for that very
    version does), and the words for the audit log."""
    if not found or found.get("canary") != str(version):
        return False, f"no canary verdict for v{version} in the monitoring result"
    return found["verdict"] == PROMOTE, f"canary verdict {found['verdict']}: {found['reason']}"


def promotion_note(found: dict | None, version: int, force: bool) -> str:
    """The audit note of a promotion the verdict allows (or `force` overrides); LooplineInputError otherwise."""
    allowed, note = promotion_verdict(found, version)
    if not allowed and not force:
        raise LooplineInputError(f"v{version} is not promoted: {note} (--force promotes anyway)")
    return note + ("" if allowed else " (promoted with --force)")


def read_verdict(monitoring_uri: str) -> dict | None:
    """The canary block of a monitoring.json (a file, or a folder holding one), None when it has none."""
    from components import keys

    path = monitoring_uri if monitoring_uri.endswith(".json") else uri_io.join(monitoring_uri, keys.MONITORING_FILE)
    try:
        found = json.loads(uri_io.read_text(path))
    except FileNotFoundError:
        raise LooplineInputError(f"no monitoring result at {path}") from None
    except ValueError as err:
        raise LooplineInputError(f"{path}: not a monitoring.json ({err})") from None
    return found.get(CANARY_KEY)
