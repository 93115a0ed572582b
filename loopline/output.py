"""What the `loopline` command prints: tables, one-line messages, times, a run's summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from loopline.local_runner import LocalRun

PREFIX = "loopline"
SHOWN_METRICS = ("accuracy", "macro_f1", "macro_roc_auc", "log_loss", "rmse", "mae", "r2")


def one_line(text: object) -> str:
    """Text with every run of white space (newlines too) folded to one space."""
    return " ".join(str(text).split())


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under a header, in left-aligned columns (the `loopline` listings)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [header, *rows]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def short_time(iso: str) -> str:
    """`2026-11-26T10:11:12.123456+00:00` -> `2026-11-26 10:11:12Z`."""
    return iso[:19].replace("T", " ") + "Z" if len(iso) >= 19 else iso


def summary(run: LocalRun) -> list[str]:
    """The lines that end a local run: outcome, data decision, metrics, approval, version, deployment, files."""
    lines = [f"{PREFIX}: pipeline {run.name} {'succeeded' if run.succeeded else 'FAILED'} in {run.seconds:.1f} s; "
             f"run folder: {run.run_dir}"]
    if run.decision:
        lines.append(f"{PREFIX}: {'data OK' if run.decision['data_ok'] else 'data NOT OK'}: {run.decision['reason']}")
    if run.evaluation:
        candidate, decision = run.evaluation["candidate"], run.evaluation["decision"]
        shown = ", ".join(f"{k}={candidate[k]:.4f}" for k in SHOWN_METRICS if candidate.get(k) is not None)
        lines.append(f"{PREFIX}: metrics on {candidate['count']:,} eval rows: {shown}")
        lines.append(f"{PREFIX}: {'APPROVED' if decision['approved'] else 'NOT APPROVED'}: {decision['reason']}")
    if run.registered:
        lines.append(f"{PREFIX}: registered version {run.registered['version']}: {run.registered['uri']}")
    if run.deployment:
        lines.append(f"{PREFIX}: {'DEPLOYED' if run.deployment['deployed'] else 'NOT DEPLOYED'}: "
                     f"{run.deployment['reason']}")
    lines += [f"{PREFIX}: {name}: {path}" for name, path in run.reports.items()]
    if run.log:
        lines.append(f"{PREFIX}: full log: {run.log}")
    return lines
