"""The `pushgateway` fixture is a real Pushgateway: a pushed exposition comes back from /metrics with
its grouping labels, a second push to the group replaces it, and a malformed one is refused."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest

from components.lib.serving import fetch_text

EXPOSITION = "text/plain; version=0.0.4"
_LINE = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*)\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def put(url: str, body: str) -> int:
    """PUT a text exposition (replacing the whole group); the HTTP status."""
    request = urllib.request.Request(url, data=body.encode(), method="PUT", headers={"Content-Type": EXPOSITION})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every sample of `name` in an exposition."""
    found = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group("name") == name:
            found.append((dict(_LABEL.findall(match.group("labels"))), float(match.group("value"))))
    return found


def test_a_pushed_group_is_served_back_with_its_grouping_labels(pushgateway: str) -> None:
    group = f"{pushgateway}/metrics/job/fixture-check/model/m"
    body = "# TYPE fixture_check_rows gauge\nfixture_check_rows{role=\"production\"} 3\n"
    assert put(group, body) == 200
    assert samples(fetch_text(f"{pushgateway}/metrics"), "fixture_check_rows") == [
        ({"instance": "", "job": "fixture-check", "model": "m", "role": "production"}, 3.0)]
    assert put(group, "# TYPE fixture_check_rows gauge\nfixture_check_rows{role=\"other\"} 5\n") == 200
    served = fetch_text(f"{pushgateway}/metrics")
    assert [labels["role"] for labels, _ in samples(served, "fixture_check_rows")] == ["other"]  # PUT replaced it
    assert [labels["model"] for labels, _ in samples(served, "push_time_seconds")
            if labels["job"] == "fixture-check"] == ["m"]


@pytest.mark.parametrize("body", ["fixture_check_rows{role=\"production\"} three\n", "not a metric line\n"])
def test_a_malformed_push_is_refused(pushgateway: str, body: str) -> None:
    assert put(f"{pushgateway}/metrics/job/fixture-check-bad/model/m", body) == 400
    assert "fixture-check-bad" not in fetch_text(f"{pushgateway}/metrics")
