"""The monitor step's Prometheus metrics as the manifests' tests check them: read from the code that emits them
(components/monitor/exposition.py), so a renamed metric or label fails the alert rules' and the dashboard's tests.

Every series is pushed with job="loopline-monitor" and the grouping key {model}; the Pushgateway adds `job` and
`instance` to each, the ServiceMonitor's scrape the target labels.
"""

from __future__ import annotations

from components.monitor.exposition import METRICS

PREFIX = "loopline_monitor_"
PUSHED_LABELS = frozenset({"job", "instance"})  # added by the Pushgateway from the push's URL

MONITOR_METRICS: dict[str, frozenset[str]] = {name: frozenset(labels) for name, (labels, _) in METRICS.items()}
