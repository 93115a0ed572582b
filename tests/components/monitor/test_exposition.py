"""The exposition of a regression's result: its ceilings (max_rmse) and its realized errors, as the rules read them.

(A classifier's run, pushed to a real Pushgateway, is tested in tests/manifests/test_monitor_push.py.)
"""

from __future__ import annotations

import numpy as np
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from components.monitor.executor import Monitoring, VersionReport
from components.monitor.exposition import metrics_registry
from components.monitor.performance import Performance
from components.monitor.realized import realized_regression


def test_a_regression_exposes_its_ceiling_and_realized_errors_with_their_intervals() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(50.0, 10.0, 300)
    realized = realized_regression(truth, truth + rng.normal(0.0, 3.0, 300), np.ones(300))
    judged = Performance("regression", 300, 300, 300, 1.0, 0, realized, None, None, {"rmse": 2.5},
                         {"max_rmse": 4.0})
    result = Monitoring("taxi", "2026-12-01T00:00:00+00:00 .. 2026-12-01T06:00:00+00:00", 3, "ok", "fine",
                        {"psi": 0.2}, 100, [VersionReport("3", 300, True, [], performance=judged)])
    samples = {(s.name, s.labels.get("metric", ""), s.labels.get("kind", "")): s.value for family in
               text_string_to_metric_families(generate_latest(metrics_registry(result, finished=1.0e9)).decode())
               for s in family.samples}
    assert samples[("loopline_monitor_performance_ceiling", "rmse", "")] == 4.0
    assert samples[("loopline_monitor_performance", "rmse", "realized")] == realized.metrics["rmse"].value
    assert samples[("loopline_monitor_performance_low", "rmse", "realized")] == realized.metrics["rmse"].low
    assert samples[("loopline_monitor_window_seconds", "", "")] == 6 * 3600.0
    assert samples[("loopline_monitor_last_success_timestamp_seconds", "", "")] == 1.0e9
    assert ("loopline_monitor_calibration_ok", "", "") not in samples, "no estimate, no calibration series"
