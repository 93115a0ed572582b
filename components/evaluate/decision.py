"""The evaluate gate: approve a candidate model against metric floors and the model in production.

The gate is data, not an exception: `decide` returns a `Decision` that evaluate records and deploy
reads (a rejected candidate is a no-op deploy with the reason). Which way each metric is better is
defined once, in `DIRECTIONS`; a limit is `min_<metric>` for a higher-is-better metric (a floor)
and `max_<metric>` for a lower-is-better one (a ceiling).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from components.errors import LooplineInputError
from components.evaluate import metrics
from components.lib.bundle import CLASSIFICATION, REGRESSION

HIGHER = "higher"
LOWER = "lower"
DIRECTIONS = {
    CLASSIFICATION: {
        "accuracy": HIGHER,
        "macro_precision": HIGHER,
        "macro_recall": HIGHER,
        "macro_f1": HIGHER,
        "macro_roc_auc": HIGHER,
        "log_loss": LOWER,
    },
    REGRESSION: {"rmse": LOWER, "mae": LOWER, "r2": HIGHER},
}
PRIMARY = {CLASSIFICATION: "accuracy", REGRESSION: "rmse"}
LIMIT_PREFIX = {HIGHER: "min", LOWER: "max"}
LIMIT_WORD = {HIGHER: "floor", LOWER: "ceiling"}
# Float slack in the production comparison: 0.8 - 0.7 is 0.10000000000000009, which must pass a 0.1 tolerance.
SLACK = 1e-9


@dataclass(frozen=True)
class Decision:
    """The gate's verdict, its one-line reason, every check made, and the production version compared with.

    Each check is {name, value, limit, passed}: `name` is the floor key (e.g. "min_accuracy") or
    "<primary>_vs_production", `value` the candidate's metric (None when missing or NaN), `limit`
    the value it had to reach (None when production has no such metric and nothing was compared).
    """

    approved: bool
    reason: str
    checks: list[dict[str, Any]]
    baseline_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Limit:
    key: str
    metric: str
    direction: str
    limit: float


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _metric(values: Mapping[str, Any], name: str) -> float | None:
    """A metric as a finite float, or None when it is missing, None, NaN, infinite or not a number."""
    return _finite(values.get(name))


def _absent(values: Mapping[str, Any], name: str) -> str:
    """Why a metric has no usable value, in words."""
    return f"{values[name]!r}" if name in values else "not measured"


def _fmt(*values: float) -> list[str]:
    """Values to 4 significant digits, or more where 4 would print two different values alike."""
    for digits in range(4, 18):
        texts = [f"{v:.{digits}g}" for v in values]
        if len(set(texts)) == len(set(values)):
            return texts
    return [repr(v) for v in values]


def parse_limits(task: str, floors: Mapping[str, Any]) -> list[_Limit]:
    """The floors and ceilings of `floors` for `task`; a LooplineInputError names a key or value that is wrong."""
    directions = DIRECTIONS[task]
    limits = []
    for key, raw in floors.items():
        prefix, _, metric = str(key).partition("_")
        if prefix not in LIMIT_PREFIX.values() or not metric:
            raise LooplineInputError(
                f"unknown floor {key!r}: name limits min_<metric> (higher is better) or max_<metric> (lower is better)"
            )
        if metric not in directions:
            raise LooplineInputError(f"floor {key!r}: {task} has no metric {metric!r}; it has {', '.join(directions)}")
        direction = directions[metric]
        expected = f"{LIMIT_PREFIX[direction]}_{metric}"
        if key != expected:
            raise LooplineInputError(
                f"floor {key!r}: {metric} is {direction}-is-better, so its limit is a "
                f"{LIMIT_WORD[direction]} named {expected!r}"
            )
        limit = _finite(raw)
        if limit is None:
            raise LooplineInputError(f"floor {key!r} must be a finite number, got {raw!r}")
        limits.append(_Limit(key, metric, direction, limit))
    return limits


def _limit_check(limit: _Limit, candidate: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    word = LIMIT_WORD[limit.direction]
    value = _metric(candidate, limit.metric)
    if value is None:
        text = f"{limit.metric} is {_absent(candidate, limit.metric)}: cannot meet {word} {_fmt(limit.limit)[0]}"
        return {"name": limit.key, "value": None, "limit": limit.limit, "passed": False}, text
    higher = limit.direction == HIGHER
    passed = value >= limit.limit if higher else value <= limit.limit
    op = (">=" if passed else "<") if higher else ("<=" if passed else ">")
    shown, bound = _fmt(value, limit.limit)
    return {"name": limit.key, "value": value, "limit": limit.limit, "passed": passed}, (
        f"{limit.metric} {shown} {op} {word} {bound}"
    )


def _production_check(
    task: str, candidate: Mapping[str, Any], production: Mapping[str, Any], tolerance: float, where: str
) -> tuple[dict[str, Any], str]:
    """The candidate's primary metric against production's, allowing `tolerance` (absolute) worse."""
    primary = PRIMARY[task]
    higher = DIRECTIONS[task][primary] == HIGHER
    name = f"{primary}_vs_production"
    value = _metric(candidate, primary)
    base = _metric(production, primary)
    if base is None:
        # Fail open: a production model with no usable metric must not block every future model.
        text = f"{where} has no usable {primary} ({_absent(production, primary)}): not compared"
        return {"name": name, "value": value, "limit": None, "passed": True}, text
    # Rounded so that a reader of the check sees 0.7, not 0.7000000000000001, for 0.8 - 0.1.
    limit = round(base - tolerance if higher else base + tolerance, 12)
    if value is None:
        text = f"{primary} is {_absent(candidate, primary)}: cannot compare with {where} ({_fmt(base)[0]})"
        return {"name": name, "value": None, "limit": limit, "passed": False}, text
    worse_by = base - value if higher else value - base
    passed = worse_by <= tolerance + SLACK
    shown, base_shown = _fmt(value, base)
    if worse_by <= 0:
        text = f"{primary} {shown} {'>=' if higher else '<='} {where} ({base_shown})"
    else:
        side = "below" if higher else "above"
        gap, tol = _fmt(worse_by, tolerance) if not passed else (f"{worse_by:.4g}", f"{tolerance:.4g}")
        within = "within tolerance" if passed else "tolerance"
        text = f"{primary} {shown} is {gap} {side} {where} ({base_shown}), {within} {tol}"
    return {"name": name, "value": value, "limit": limit, "passed": passed}, text


def decide(
    task: str,
    candidate: Mapping[str, Any],
    production: Mapping[str, Any] | None,
    floors: Mapping[str, float] | None,
    tolerance: float,
    production_version: int | None = None,
) -> Decision:
    """Approve `candidate` iff it meets every floor/ceiling and, with a production model, is not worse
    than production on the primary metric (accuracy / rmse) by more than `tolerance` (absolute).

    `candidate` and `production` are metric dicts (as `classification_metrics` / `regression_metrics`
    return). Without production the candidate is the first model and only the limits apply. A
    candidate metric that is missing, None or NaN fails its check. Raises ValueError for an unknown
    task, limit key or metric, a non-finite limit, or a negative tolerance.
    """
    metrics.check_task(task)
    tol = _finite(tolerance)
    if tol is None or tol < 0:
        raise LooplineInputError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    if production is None and production_version is not None:
        raise LooplineInputError(f"production_version {production_version} given without production metrics")
    for name, values in (("candidate", candidate), ("production", production)):
        if values is not None and not isinstance(values, Mapping):
            raise LooplineInputError(f"{name} must be a dict of metrics, got {type(values).__name__}")
    limits = parse_limits(task, floors or {})

    results = [_limit_check(limit, candidate) for limit in limits]
    notes = []
    if production is None:
        notes.append("first model")
    else:
        where = "production" if production_version is None else f"production v{production_version}"
        check, text = _production_check(task, candidate, production, tol, where)
        results.append((check, text))
        if check["limit"] is None:
            notes.append(text)
    checks = [check for check, _ in results]
    approved = all(check["passed"] for check in checks)
    shown = [text for check, text in results if (approved or not check["passed"]) and text not in notes]
    if not limits and approved and production is None:
        shown.append("no floors set")
    reason = ("approved: " if approved else "rejected: ") + "; ".join(notes + shown)
    return Decision(approved, reason, checks, production_version if production is not None else None)
