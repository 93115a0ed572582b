"""What the rendered manifests query and what the predictor's /metrics exports (shared by two tests).

`kustomize` renders an overlay; `queries` lists every PromQL expression of the PrometheusRules and
the Grafana dashboard; `references` reads metric names and the labels used on each; `exported`
parses the Prometheus text format. The PromQL reader is deliberately small and strict: it refuses
the constructs it cannot attribute labels for (ignoring, without, group_* with labels to copy,
postfix `by`, label_replace/label_join), so a new query cannot slip past the checks unread. The
labels of an `on (...)` match are attributed to every metric inside the parentheses around that
operation (or the whole expression): stricter than PromQL when a nested operand lacks them.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from loopline import paths

ROOT = paths.ROOT
MANIFESTS = ROOT / "manifests"
OVERLAYS = {"dev": "loopline-dev", "prod": "loopline"}  # overlay -> its namespace

# Labels Prometheus Operator puts on every series scraped through a PodMonitor (plus `instance`
# from Prometheus itself); the PodMonitor's own relabelings add more (see `scrape_labels`).
OPERATOR_TARGET_LABELS = frozenset({"namespace", "pod", "container", "job", "instance"})
# A ServiceMonitor's targets carry those and the Service's name and port name as well.
SERVICE_MONITOR_TARGET_LABELS = OPERATOR_TARGET_LABELS | {"service", "endpoint"}

AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                          "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
IGNORED_WORDS = frozenset({"and", "or", "unless", "bool", "offset", "Inf", "NaN", "inf", "nan", "atan2"})
REFUSED_WORDS = frozenset({"ignoring", "without", "label_replace", "label_join"})
GROUP_MODIFIERS = frozenset({"group_left", "group_right"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_RANGE = re.compile(r"\[[^\[\]]*\]")
_TOKEN = re.compile(r"\s+|(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*)"
                    r"|(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)|(?P<matchers>\{[^{}]*\})|(?P<punct>[(),])|(?P<other>.)")
_MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<expr>.+),\s*)?(?P<label>[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


@dataclass
class References:
    """Metric names an expression reads, and (metric, label) pairs for every label used on them."""

    metrics: set[str] = field(default_factory=set)
    labels: set[tuple[str, str]] = field(default_factory=set)

    def update(self, other: "References") -> None:
        """Add another expression's references."""
        self.metrics |= other.metrics
        self.labels |= other.labels


@functools.lru_cache(maxsize=None)
def _kustomize_text(path: str) -> str:
    proc = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed: {proc.stderr}")
    return proc.stdout


def kustomize(path: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize path` (offline) as a list of objects (a fresh copy on every call)."""
    import yaml

    return copy.deepcopy([doc for doc in yaml.safe_load_all(_kustomize_text(str(path))) if doc])


def _tokens(expr: str) -> list[tuple[str, str]]:
    text = _RANGE.sub(" ", _STRING.sub('""', expr))  # strings and [5m]/[$__rate_interval] carry no names
    return [(kind, match.group(kind)) for match in _TOKEN.finditer(text)
            for kind in ("num", "ident", "matchers", "punct", "other") if match.group(kind) is not None]


def _enclosing_groups(tokens: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """For every token, the (open, close) indices of the innermost parentheses around it, or
    (-1, len(tokens)) at the top level."""
    opened: list[int] = []
    pairs: dict[int, int] = {}
    for i, (_, value) in enumerate(tokens):
        if value == "(":
            opened.append(i)
        elif value == ")":
            pairs[opened.pop()] = i
    stack: list[int] = []
    groups = []
    for i, (_, value) in enumerate(tokens):
        if value == ")":
            stack.pop()
        groups.append((stack[-1], pairs[stack[-1]]) if stack else (-1, len(tokens)))
        if value == "(":
            stack.append(i)
    return groups


def _label_list(tokens: list[tuple[str, str]], start: int, expr: str) -> tuple[list[str], int]:
    """The labels of `(a, b)` opening at tokens[start], and the index just past its `)`."""
    if start >= len(tokens) or tokens[start][1] != "(":
        raise ValueError(f"expected a label list `(...)` in {expr!r}")
    close = next(j for j in range(start + 1, len(tokens)) if tokens[j][1] == ")")
    return [v for k, v in tokens[start + 1:close] if k == "ident"], close + 1


def references(expr: str) -> References:
    """Metric names in a PromQL expression, each paired with the labels of its matchers, of every
    enclosing `agg by (...) (...)` and of every `on (...)` in its parentheses; ValueError for
    constructs this reader does not attribute."""
    tokens, found = _tokens(expr), References()
    if sum(v == "(" for _, v in tokens) != sum(v == ")" for _, v in tokens):
        raise ValueError(f"unbalanced parentheses in {expr!r}")
    groups = _enclosing_groups(tokens)
    matches: list[tuple[tuple[int, int], list[str]]] = []  # (group of an `on`, its labels)
    seen: list[tuple[int, str]] = []  # (token index, metric)
    depth, scopes = 0, []  # scopes: (depth at which an aggregation's argument closes, its by-labels)
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "ident" and value in REFUSED_WORDS:
            raise ValueError(f"{value!r} in {expr!r}: not supported by this reader (extend it first)")
        if kind == "ident" and value == "on":
            labels, after = _label_list(tokens, i + 1, expr)
            matches.append((groups[i], labels))
            i = after
            continue
        if kind == "ident" and value in GROUP_MODIFIERS:
            if nxt != "(":
                i += 1
                continue
            labels, after = _label_list(tokens, i + 1, expr)
            if labels:
                raise ValueError(f"{value} ({', '.join(labels)}) in {expr!r}: copied labels are not supported")
            i = after
            continue
        if kind == "ident" and value == "by":
            raise ValueError(f"postfix 'by' in {expr!r}: write `agg by (labels) (expr)`")
        if kind == "ident" and value in AGGREGATIONS and nxt == "by":
            if i + 2 >= len(tokens) or tokens[i + 2][1] != "(":
                raise ValueError(f"expected `(` after `{value} by` in {expr!r}")
            close = next(j for j in range(i + 3, len(tokens)) if tokens[j][1] == ")")
            labels = [v for k, v in tokens[i + 3:close] if k == "ident"]
            if tokens[close + 1][1] != "(":
                raise ValueError(f"expected `(` after `{value} by (...)` in {expr!r}")
            depth += 1
            scopes.append((depth, labels))
            i = close + 2
            continue
        if value == "(":
            depth += 1
        elif value == ")":
            while scopes and scopes[-1][0] == depth:
                scopes.pop()
            depth -= 1
        elif kind == "ident" and nxt != "(" and value not in IGNORED_WORDS:
            found.metrics.add(value)
            seen.append((i, value))
            labels = [label for _, by in scopes for label in by]
            if nxt.startswith("{"):
                labels += _MATCHER_LABEL.findall(nxt)
            found.labels |= {(value, label) for label in labels}
        elif kind == "matchers" and (i == 0 or tokens[i - 1][0] != "ident"):
            raise ValueError(f"a selector without a metric name in {expr!r}")
        i += 1
    for (start, end), labels in matches:
        found.labels |= {(metric, label) for at, metric in seen if start < at < end for label in labels}
    return found


def grafana_variable_references(query: str) -> References:
    """References of a Grafana Prometheus variable query: `label_values(expr, label)` or plain PromQL."""
    match = _LABEL_VALUES.match(query)
    if not match:
        return references(query)
    if match.group("expr") is None:
        raise ValueError(f"{query!r} names no metric; write label_values(metric, label)")
    found = references(match.group("expr"))
    found.labels |= {(metric, match.group("label")) for metric in found.metrics}
    return found


def dashboards(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(ConfigMap/key, dashboard) for every Grafana dashboard ConfigMap (label grafana_dashboard=1)."""
    for obj in objects:
        if obj["kind"] == "ConfigMap" and (obj["metadata"].get("labels") or {}).get("grafana_dashboard") == "1":
            for key, text in (obj.get("data") or {}).items():
                yield f"ConfigMap {obj['metadata']['name']}/{key}", json.loads(text)


def queries(objects: list[dict[str, Any]]) -> list[tuple[str, References]]:
    """(where, references) for every PromQL expression in the rendered rules and dashboards."""
    found: list[tuple[str, References]] = []
    for obj in objects:
        if obj["kind"] == "PrometheusRule":
            for group in obj["spec"]["groups"]:
                for rule in group["rules"]:
                    where = f"PrometheusRule {obj['metadata']['name']}: {rule.get('alert') or rule.get('record')}"
                    found.append((where, references(rule["expr"])))
    for name, dashboard in dashboards(objects):
        for panel in dashboard.get("panels", []):
            for target in panel.get("targets", []):
                found.append((f"{name}: panel {panel['title']!r} {target['refId']}", references(target["expr"])))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
                found.append((f"{name}: variable {variable['name']}", grafana_variable_references(query)))
    return found


def scrape_labels(objects: list[dict[str, Any]], kind: str = "PodMonitor") -> set[str]:
    """Labels every series scraped through the monitors of `kind` (PodMonitor or ServiceMonitor)
    gets: the operator's standard target labels and those monitors' relabelings."""
    labels = set(SERVICE_MONITOR_TARGET_LABELS if kind == "ServiceMonitor" else OPERATOR_TARGET_LABELS)
    endpoints_key = {"PodMonitor": "podMetricsEndpoints", "ServiceMonitor": "endpoints"}[kind]
    for obj in objects:
        if obj["kind"] == kind:
            for endpoint in obj["spec"][endpoints_key]:
                labels |= {r["targetLabel"] for r in endpoint.get("relabelings", []) if "targetLabel" in r}
    return labels


_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+\S+(?:\s+\S+)?$")
_SAMPLE_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="(?:[^"\\]|\\.)*"')
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count"),
             "counter": ("",), "gauge": ("",), "untyped": ("",)}


def exported(metrics_text: str) -> dict[str, set[str] | None]:
    """Series names in a Prometheus text exposition -> their label names; None for a series that is
    declared (# TYPE) but has no sample yet, so its labels are unknown."""
    series: dict[str, set[str] | None] = {}
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            for suffix in _SUFFIXES.get(kind.strip(), ("",)):
                series.setdefault(name + suffix, None)
        elif line and not line.startswith("#"):
            match = _SAMPLE.match(line)
            if not match:
                raise ValueError(f"not a Prometheus sample line: {line!r}")
            labels = set(_SAMPLE_LABEL.findall(match.group("labels") or ""))
            series[match.group("name")] = (series.get(match.group("name")) or set()) | labels
    return series
