"""Every alert rule in manifests/ unit-tested with promtool, on the rules exactly as kustomize renders them.

The rules are taken from the PrometheusRule objects of the rendered base and overlays and written as
a plain Prometheus rules file (`loopline-rules.yaml`) beside copies of the promtool test files in
tests/manifests/alerts/, which name that file. promtool evaluates the rules on the test files' input
series and compares the firing alerts, labels and annotations included. The tests here also check
that every alert has a case where it fires and one where it stays silent on data it reads, and that
the unit tests fail when an alert is broken (never fires, or loses its `for:`).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from manifest_metrics import MANIFESTS, OVERLAYS, dashboards, kustomize, references

from support.debian_tools import debian_binary

ALERT_TESTS = Path(__file__).parent / "alerts"
RULES_FILE = "loopline-rules.yaml"  # the name every test file's rule_files gives
PROMTOOL_PACKAGE = "prometheus"  # Debian's package of promtool (make tools installs it)
NEVER = "vector(1) < 0"  # an expression that never returns a sample


def promtool() -> str:
    """The promtool binary (a failure naming its Debian package when it is missing)."""
    return debian_binary("promtool", PROMTOOL_PACKAGE)


def rule_groups(target: Path) -> list[dict[str, Any]]:
    """The rule groups of every PrometheusRule that `kubectl kustomize target` renders."""
    return [group for obj in kustomize(target) if obj["kind"] == "PrometheusRule" for group in obj["spec"]["groups"]]


def alerts(groups: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every alerting rule of the groups (recording rules have no test cases to demand)."""
    return (rule for group in groups for rule in group["rules"] if "alert" in rule)


def alert_test_files() -> list[Path]:
    """The promtool test files, in a stable order."""
    return sorted(ALERT_TESTS.glob("*.yaml"))


def run_promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """promtool with `args`, its output captured."""
    return subprocess.run([promtool(), *map(str, args)], capture_output=True, text=True, timeout=120)


def unit_test(groups: list[dict[str, Any]], folder: Path) -> subprocess.CompletedProcess[str]:
    """`promtool test rules` on copies of the test files, beside `groups` written as RULES_FILE."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RULES_FILE).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    copies = [Path(shutil.copy(path, folder / path.name)) for path in alert_test_files()]
    return run_promtool("test", "rules", *copies)


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"promtool exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"


BASE = MANIFESTS / "base"
TARGETS = {"base": BASE, **{name: MANIFESTS / "overlays" / name for name in sorted(OVERLAYS)}}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_rendered_rules_pass_promtool_check(target: str, tmp_path: Path) -> None:
    """`promtool check rules`: the PromQL parses, durations and templates are valid, names unique."""
    groups, path = rule_groups(TARGETS[target]), tmp_path / RULES_FILE
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    proc = run_promtool("check", "rules", path)
    assert proc.returncode == 0, _output(proc)
    assert f"SUCCESS: {sum(len(group['rules']) for group in groups)} rules found" in proc.stdout


def test_the_unit_tests_pass_on_the_base_rules(tmp_path: Path) -> None:
    proc = unit_test(rule_groups(BASE), tmp_path)
    assert proc.returncode == 0, _output(proc)
    assert proc.stdout.count("SUCCESS") == len(alert_test_files()) >= 3


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_an_overlay_changes_the_tested_rules_at_most_in_severity(overlay: str) -> None:
    """The unit tests run on the base's rules; an overlay's differ only in `severity` (prod pages on
    two alerts), so the expressions, durations and annotations deployed are the ones tested."""
    base, rendered = rule_groups(BASE), rule_groups(MANIFESTS / "overlays" / overlay)

    def severityless(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stripped = copy.deepcopy(groups)
        for rule in alerts(stripped):
            rule["labels"].pop("severity")
        return stripped

    assert severityless(rendered) == severityless(base)
    changed = {r["alert"] for r, b in zip(alerts(rendered), alerts(base)) if r["labels"] != b["labels"]}
    assert changed == ({"LooplinePredictorErrorRate", "LooplinePredictorLatencyP99"} if overlay == "prod" else set())


def _cases() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file name, test group, alert test case) for every alert test case of every test file."""
    for path in alert_test_files():
        document = yaml.safe_load(path.read_text())
        assert document["rule_files"] == [RULES_FILE], f"{path.name}: rule_files must be [{RULES_FILE}]"
        for group in document["tests"]:
            for case in group.get("alert_rule_test", []):
                yield path.name, group, case


def test_every_alert_fires_in_one_case_and_stays_silent_in_another_on_data_it_reads() -> None:
    """A silent case must have input for every metric its alert reads (no alert fires on no data),
    and every alert name a case names must exist (promtool passes a silent case of a missing alert)."""
    rules = {rule["alert"]: rule for rule in alerts(rule_groups(BASE))}
    assert len(rules) >= 12
    fires: dict[str, list[str]] = {name: [] for name in rules}
    silent: dict[str, list[str]] = {name: [] for name in rules}
    for file_name, group, case in _cases():
        name = case["alertname"]
        assert name in rules, f"{file_name} {group['name']!r}: {name} is not an alert of the manifests"
        given = {series["series"].split("{", 1)[0].strip() for series in group["input_series"]}
        read = references(rules[name]["expr"]).metrics
        assert read <= given, f"{file_name} {group['name']!r}: no input for {sorted(read - given)} that {name} reads"
        where = f"{file_name} {group['name']!r} at {case['eval_time']}"
        (fires if case.get("exp_alerts") else silent)[name].append(where)
    assert [name for name, where in fires.items() if not where] == [], "alerts with no case where they fire"
    assert [name for name, where in silent.items() if not where] == [], "alerts with no case where they stay silent"


def test_the_unit_tests_fail_for_an_alert_that_never_fires(tmp_path: Path) -> None:
    """With every expression replaced by one that returns nothing, each alert's firing case fails."""
    groups = rule_groups(BASE)
    for rule in alerts(groups):
        rule["expr"] = NEVER
    proc = unit_test(groups, tmp_path)
    assert proc.returncode != 0, _output(proc)
    for name in (rule["alert"] for rule in alerts(rule_groups(BASE))):
        assert f"alertname: {name}," in _output(proc), f"no failing case for {name}\n{_output(proc)}"


def test_the_unit_tests_fail_for_an_alert_that_loses_its_for(tmp_path: Path) -> None:
    """Every alert with a `for:` has a silent case while it is only pending: without the `for:` it fails."""
    groups = rule_groups(BASE)
    waiting = [rule["alert"] for rule in alerts(groups) if "for" in rule]
    assert len(waiting) >= 5
    for rule in alerts(groups):
        rule.pop("for", None)
    proc = unit_test(groups, tmp_path)
    assert proc.returncode != 0, _output(proc)
    for name in waiting:
        assert f"alertname: {name}," in _output(proc), f"nothing tests the `for:` of {name}\n{_output(proc)}"


# A value for each dashboard variable, so that a panel's query is plain PromQL.
DASHBOARD_VALUES = {"$__rate_interval": "1m", "$namespace": "loopline", "$inferenceservice": ".*", "$model": ".*",
                    "$metric": "accuracy"}


def test_every_dashboard_query_parses_as_promql(tmp_path: Path) -> None:
    """Each panel query, its variables given a value, as a recording rule for `promtool check rules`."""
    rules = []
    for _, board in dashboards(kustomize(BASE)):
        for panel in board["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                for variable, value in sorted(DASHBOARD_VALUES.items(), key=lambda item: -len(item[0])):
                    expr = expr.replace(variable, value)
                assert "$" not in expr, f"panel {panel['title']!r}: a variable without a value in {expr!r}"
                rules.append({"record": f"dashboard:panel_{panel['id']}_{target['refId']}", "expr": expr})
    assert len(rules) >= 20
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sort_keys=False))
    proc = run_promtool("check", "rules", path)
    assert proc.returncode == 0, _output(proc)

