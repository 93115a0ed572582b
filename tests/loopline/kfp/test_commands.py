"""`loopline upload|submit|schedule|runs` run in process against tests/fakes/kfp_api.py.

The server is a FAKE of the KFP v2beta1 REST API (no Kubeflow Pipelines can run here): the
client side is the real kfp.Client 2.13 and kfp-server-api 2.4, and every request body the
fake records is parsed back into the kfp-server-api model its endpoint takes, with no keys
the model does not know.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import kfp_server_api
import pytest

from components.version import VERSION
from fakes.kfp_api import FakeKFP
from loopline.cli import main
from pipelines.compiling import compiled_path

PARAMS = ["--param", "source=gs://bucket/penguins.csv", "--param", "registry_uri=gs://bucket/registry",
          "--param", "model_name=penguins"]
KFP_NAME = "loopline-training"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No KFP settings from the environment or ~/.config/kfp leak into a test."""
    from kfp.client import client

    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_SA_TOKEN_PATH", "KF_PIPELINES_UI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(client.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "kfp-context.json"))


@pytest.fixture
def fake() -> Iterator[FakeKFP]:
    server = FakeKFP()
    server.url = server.start()
    yield server
    server.stop()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = cli(capsys, *argv)
    assert (code, err) == (0, ""), err
    return out


def one_error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, _, err = cli(capsys, *argv)
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def parse(body: dict, model: str) -> Any:
    """The body as a kfp-server-api model; fails on keys the model does not declare."""
    parsed = kfp_server_api.ApiClient().deserialize(SimpleNamespace(data=json.dumps(body)), model)
    _known_keys(body, parsed)
    return parsed


def _known_keys(data: Any, model: Any) -> None:
    if hasattr(model, "attribute_map") and isinstance(data, dict):
        unknown = set(data) - set(model.attribute_map.values())
        assert not unknown, f"{type(model).__name__} has no {sorted(unknown)}"
        for attribute, key in model.attribute_map.items():
            if key in data:
                _known_keys(data[key], getattr(model, attribute))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uploaded(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> tuple[dict, dict]:
    ok(capsys, "upload", "training", "--host", fake.url)
    (pipeline,) = fake.pipelines.values()
    (version,) = fake.versions.values()
    return pipeline, version


# -- upload ------------------------------------------------------------------------------
def test_upload_is_idempotent_by_content(capsys: pytest.CaptureFixture[str], fake: FakeKFP, tmp_path: Path) -> None:
    package = compiled_path("training")
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    out = ok(capsys, "upload", "training", "--host", fake.url)
    assert f"uploaded new pipeline {KFP_NAME}" in out and f"sha256 {digest[:12]}" in out
    (upload,) = fake.calls("POST", r"/apis/v2beta1/pipelines/upload")
    assert upload.arg("name") == KFP_NAME and f"sha256 {digest}" in upload.arg("description")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    (version,) = fake.versions.values()
    assert version["pipeline_spec"]["pipelineInfo"]["name"] == KFP_NAME  # the fake read the uploaded file

    out = ok(capsys, "upload", "training", "--host", fake.url)
    assert "already has this content" in out and "nothing uploaded" in out
    assert len(fake.pipelines) == 1 and len(fake.versions) == 1

    changed = tmp_path / "training.yaml"
    changed.write_bytes(package.read_bytes() + b"# changed\n")
    new_digest = hashlib.sha256(changed.read_bytes()).hexdigest()
    out = ok(capsys, "upload", "training", "--package", str(changed), "--host", fake.url)
    assert f"uploaded version {VERSION}-{new_digest[:12]}" in out
    (added,) = fake.calls("POST", r"/apis/v2beta1/pipelines/upload_version")
    assert added.arg("name") == f"{VERSION}-{new_digest[:12]}"
    assert added.arg("pipelineid") == next(iter(fake.pipelines))
    assert len(fake.pipelines) == 1 and len(fake.versions) == 2

    assert "nothing uploaded" in ok(capsys, "upload", "training", "--package", str(changed), "--host", fake.url)
    assert "nothing uploaded" in ok(capsys, "upload", "training", "--host", fake.url)
    assert len(fake.versions) == 2


# -- submit ------------------------------------------------------------------------------
def test_submit_sends_a_v2beta1_run(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    pipeline, version = uploaded(capsys, fake)
    out = ok(capsys, "submit", "training", "--host", fake.url, "--experiment", "nightly", "--run-name", "try-1",
             *PARAMS, "--param", "epochs=5", "--param", 'features=["bill_length_mm", "island"]',
             "--param", "label_column=species", "--pipeline-root", "gs://bucket/root")
    (experiment_call,) = fake.calls("POST", r"/apis/v2beta1/experiments")
    experiment = parse(experiment_call.json(), "V2beta1Experiment")
    assert experiment.display_name == "nightly"
    (run_call,) = fake.calls("POST", r"/apis/v2beta1/runs")
    run = parse(run_call.json(), "V2beta1Run")
    assert run.display_name == "try-1"
    assert run.experiment_id == next(iter(fake.experiments))
    assert run.pipeline_version_reference.pipeline_id == pipeline["pipeline_id"]
    assert run.pipeline_version_reference.pipeline_version_id == version["pipeline_version_id"]
    assert run.runtime_config.parameters == {
        "source": "gs://bucket/penguins.csv", "registry_uri": "gs://bucket/registry", "model_name": "penguins",
        "epochs": 5, "features": ["bill_length_mm", "island"], "label_column": "species"}
    assert run.runtime_config.pipeline_root == "gs://bucket/root"
    assert run.pipeline_spec is None  # the uploaded version is referenced, not re-sent
    run_id = next(iter(fake.runs))
    assert f"submitted run try-1 ({run_id}) in experiment nightly" in out
    assert f"{fake.url}/#/runs/details/{run_id}" in out

    ok(capsys, "submit", "training", "--host", fake.url, "--experiment", "nightly", *PARAMS)
    assert len(fake.experiments) == 1, "an existing experiment is reused"


def test_submit_checks_parameters_against_the_version(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    uploaded(capsys, fake)
    assert one_error_line(capsys, "submit", "training", "--host", fake.url) == (
        f"loopline: error: pipeline {KFP_NAME} version {KFP_NAME} needs --param for model_name, registry_uri, source")
    error = one_error_line(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--param", "epoch=5")
    assert error.startswith(
        f"loopline: error: pipeline {KFP_NAME} version {KFP_NAME} has no parameter epoch (parameters: ")
    assert not fake.calls("POST", r"/apis/v2beta1/runs")


def test_submit_a_named_version(capsys: pytest.CaptureFixture[str], fake: FakeKFP, tmp_path: Path) -> None:
    _, first = uploaded(capsys, fake)
    changed = tmp_path / "training.yaml"
    changed.write_bytes(compiled_path("training").read_bytes() + b"# changed\n")
    ok(capsys, "upload", "training", "--package", str(changed), "--host", fake.url)
    ok(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--version", KFP_NAME)
    ok(capsys, "submit", "training", "--host", fake.url, *PARAMS)
    first_run, newest_run = (parse(c.json(), "V2beta1Run") for c in fake.calls("POST", r"/apis/v2beta1/runs"))
    assert first_run.pipeline_version_reference.pipeline_version_id == first["pipeline_version_id"]
    assert newest_run.pipeline_version_reference.pipeline_version_id != first["pipeline_version_id"]
    assert one_error_line(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--version", "9.9").startswith(
        f"loopline: error: pipeline {KFP_NAME} has no version named 9.9 (versions: {KFP_NAME}, {VERSION}-")


@pytest.mark.parametrize("final, code", [("SUCCEEDED", 0), ("FAILED", 1), ("CANCELED", 1)])
def test_submit_wait_follows_the_run(capsys: pytest.CaptureFixture[str], fake: FakeKFP, final: str, code: int) -> None:
    uploaded(capsys, fake)
    fake.run_states = ["PENDING", "RUNNING", "RUNNING", final]
    got, out, err = cli(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--run-name", "r",
                        "--wait", "--poll", "0.01")
    assert got == code
    assert [line.rsplit(": ", 1)[1].split()[0] for line in out.splitlines()[1:]] == ["RUNNING", final]
    if final == "SUCCEEDED":
        assert err == ""
    else:
        run_id = next(iter(fake.runs))
        reason = ": task 'train' failed: exit code 1" if final == "FAILED" else ""
        assert err.splitlines() == [f"loopline: run r ({run_id}) ended {final}{reason}"]
    assert len(fake.calls("GET", r"/apis/v2beta1/runs/[^/]+")) == 3


def test_wait_gives_up_after_the_timeout(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    uploaded(capsys, fake)
    fake.run_states = ["PENDING", "RUNNING"]
    got, _, err = cli(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--run-name", "r", "--wait",
                      "--poll", "0.01", "--timeout", "0.05")
    assert got == 1
    assert err.splitlines() == [f"loopline: run r ({next(iter(fake.runs))}) is still RUNNING after 0.05 s; "
                                "it keeps running in KFP"]


# -- schedule ----------------------------------------------------------------------------
def test_schedule_cron_is_sent_in_kfp_form(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    pipeline, version = uploaded(capsys, fake)
    out = ok(capsys, "schedule", "create", "training", "--host", fake.url, "--cron", "0 2 * * *",
             "--max-concurrency", "3", *PARAMS)
    assert "cron '0 2 * * *' (UTC) = KFP '0 0 2 * * *', max concurrency 3, no catch-up" in out
    (call,) = fake.calls("POST", r"/apis/v2beta1/recurringruns")
    recurring = parse(call.json(), "V2beta1RecurringRun")
    assert recurring.trigger.cron_schedule.cron == "0 0 2 * * *"
    assert recurring.trigger.periodic_schedule is None
    assert recurring.max_concurrency == "3" and recurring.no_catchup is True and recurring.mode == "ENABLE"
    assert recurring.display_name == KFP_NAME
    assert recurring.pipeline_version_reference.pipeline_id == pipeline["pipeline_id"]
    assert recurring.pipeline_version_reference.pipeline_version_id == version["pipeline_version_id"]
    assert recurring.runtime_config.parameters == {"source": "gs://bucket/penguins.csv",
                                                   "registry_uri": "gs://bucket/registry", "model_name": "penguins"}
    assert recurring.experiment_id == next(iter(fake.experiments))


def test_schedule_interval_catchup_disabled(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    uploaded(capsys, fake)
    ok(capsys, "schedule", "create", "training", "--host", fake.url, "--every", "6h", "--catchup", "--disabled",
       "--name", "six-hourly", *PARAMS)
    (call,) = fake.calls("POST", r"/apis/v2beta1/recurringruns")
    recurring = parse(call.json(), "V2beta1RecurringRun")
    assert recurring.trigger.periodic_schedule.interval_second == "21600"
    assert recurring.trigger.cron_schedule is None
    assert (recurring.no_catchup, recurring.mode, recurring.max_concurrency) == (False, "DISABLE", "1")


def test_schedule_enable_disable_delete_list(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    uploaded(capsys, fake)
    assert ok(capsys, "schedule", "list", "--host", fake.url).strip() == "loopline: no recurring runs"
    ok(capsys, "schedule", "create", "training", "--host", fake.url, "--cron", "@daily", *PARAMS)
    (recurring_id,) = fake.recurring
    listing = ok(capsys, "schedule", "list", "--host", fake.url).splitlines()
    assert listing[0].split() == ["NAME", "STATUS", "SCHEDULE", "MAX", "CONCURRENCY", "CATCH-UP", "CREATED", "ID"]
    assert listing[1].split()[:8] == [KFP_NAME, "ENABLED", "cron", "0", "0", "0", "*", "*"]
    assert listing[1].endswith(recurring_id)

    assert "disabled" in ok(capsys, "schedule", "disable", KFP_NAME, "--host", fake.url)
    assert fake.calls("POST", rf"/apis/v2beta1/recurringruns/{recurring_id}:disable")
    assert "DISABLED" in ok(capsys, "schedule", "list", "--host", fake.url, "--experiment", "loopline")
    assert "enabled" in ok(capsys, "schedule", "enable", recurring_id, "--host", fake.url)
    assert fake.recurring[recurring_id]["status"] == "ENABLED"

    error = one_error_line(capsys, "schedule", "create", "training", "--host", fake.url, "--cron", "@hourly", *PARAMS)
    assert error == (f"loopline: error: a recurring run named {KFP_NAME} already exists at {fake.url} "
                     f"(id {recurring_id}): delete it or pass another --name")
    assert one_error_line(capsys, "schedule", "delete", "nightly", "--host", fake.url) == (
        f"loopline: error: no recurring run named or with id nightly at {fake.url} (recurring runs: {KFP_NAME})")

    assert "deleted" in ok(capsys, "schedule", "delete", KFP_NAME, "--host", fake.url)
    assert fake.calls("DELETE", rf"/apis/v2beta1/recurringruns/{recurring_id}") and not fake.recurring


def test_schedule_checks_its_input_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    assert one_error_line(capsys, "schedule", "create", "training", "--host", host, "--cron", "0 24 * * *") == (
        "loopline: error: cron field 'hour': 24 is out of range 0-23")
    assert "drop the leading seconds field" in one_error_line(
        capsys, "schedule", "create", "training", "--host", host, "--cron", "0 0 2 * * *")
    with pytest.raises(SystemExit) as exited:
        main(["schedule", "create", "training", "--host", host, "--every", "1h", "--max-concurrency", "11"])
    assert exited.value.code == 2
    assert "must be 1-10" in capsys.readouterr().err


# -- runs --------------------------------------------------------------------------------
def test_runs_list_and_status(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    uploaded(capsys, fake)
    ok(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--run-name", "first", "--experiment", "a")
    ok(capsys, "submit", "training", "--host", fake.url, *PARAMS, "--run-name", "second", "--experiment", "b",
       "--param", "epochs=3")
    first_id, second_id = fake.runs
    rows = ok(capsys, "runs", "list", "--host", fake.url).splitlines()
    assert rows[0].split() == ["NAME", "STATE", "CREATED", "FINISHED", "ID"]
    assert [row.split()[0] for row in rows[1:]] == ["second", "first"]  # newest first
    (listed,) = fake.calls("GET", r"/apis/v2beta1/runs")
    assert listed.arg("sort_by") == "created_at desc"
    rows = ok(capsys, "runs", "list", "--host", fake.url, "--experiment", "a").splitlines()
    assert [row.split()[0] for row in rows[1:]] == ["first"]

    status = ok(capsys, "runs", "status", second_id, "--host", fake.url)
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["run"].strip() == "second" and fields["state"].strip() == "RUNNING"
    assert json.loads(fields["parameters"]) == {"epochs": 3, "registry_uri": "gs://bucket/registry",
                                                "source": "gs://bucket/penguins.csv", "model_name": "penguins"}
    assert ok(capsys, "runs", "status", first_id, "--host", fake.url, "--wait", "--poll", "0.01").splitlines()[-1] == (
        "loopline: run first: SUCCEEDED (0 s)")
    assert one_error_line(capsys, "runs", "status", "no-such-run", "--host", fake.url) == (
        f"loopline: error: no run with id no-such-run at {fake.url}")


# -- authentication and namespaces -----------------------------------------------------------
def test_token_from_the_flag_reaches_kfp(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    fake.token = "s3cret"
    ok(capsys, "runs", "list", "--host", fake.url, "--token", "s3cret")
    assert fake.requests and {r.headers.get("authorization") for r in fake.requests} == {"Bearer s3cret"}


def test_token_from_the_file_named_by_the_environment(capsys: pytest.CaptureFixture[str], fake: FakeKFP,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token_file))
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", fake.url)
    fake.token = "from-file"
    uploaded_out = ok(capsys, "upload", "training")
    assert "uploaded new pipeline" in uploaded_out
    assert fake.requests and {r.headers.get("authorization") for r in fake.requests} == {"Bearer from-file"}
    token_file.write_text("rotated")  # re-read on each request, as the kubelet rotates it
    fake.token = "rotated"
    ok(capsys, "runs", "list")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(tmp_path / "missing"))
    assert one_error_line(capsys, "runs", "list").startswith(
        f"loopline: error: cannot read the KFP token file {tmp_path / 'missing'} named by KF_PIPELINES_SA_TOKEN_PATH")


def test_namespace_is_passed_on_multi_user_kfp(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    fake.multi_user = True
    assert one_error_line(capsys, "runs", "list", "--host", fake.url) == (
        f"loopline: error: KFP at {fake.url} is multi-user: pass --namespace (your Kubeflow profile namespace)")
    team = ["--host", fake.url, "--namespace", "team-a"]
    ok(capsys, "upload", "training", *team)
    assert fake.calls("POST", r"/apis/v2beta1/pipelines/upload")[0].arg("namespace") == "team-a"
    ok(capsys, "submit", "training", *team, *PARAMS)
    assert parse(fake.calls("POST", r"/apis/v2beta1/experiments")[0].json(), "V2beta1Experiment").namespace == "team-a"
    ok(capsys, "schedule", "create", "training", *team, "--every", "1d", *PARAMS)
    ok(capsys, "runs", "list", *team)
    ok(capsys, "schedule", "list", *team)
    assert fake.calls("GET", r"/apis/v2beta1/runs")[-1].arg("namespace") == "team-a"
    assert fake.calls("GET", r"/apis/v2beta1/recurringruns")[-1].arg("namespace") == "team-a"
    assert fake.runs[next(iter(fake.runs))]["namespace"] == "team-a"


# -- errors: one clear line, exit 2 --------------------------------------------------------------
def test_unreachable_host(capsys: pytest.CaptureFixture[str]) -> None:
    host = f"http://127.0.0.1:{closed_port()}"
    error = one_error_line(capsys, "runs", "list", "--host", host)
    assert error.startswith(f"loopline: error: cannot reach KFP at {host}: ") and "Connection refused" in error


@pytest.mark.parametrize("token, status", [(None, 401), ("stolen", 401), ("other-user", 403)])
def test_refused_credentials(capsys: pytest.CaptureFixture[str], fake: FakeKFP, token: str | None,
                             status: int) -> None:
    fake.token, fake.forbidden_token = "s3cret", "other-user"
    error = one_error_line(capsys, "submit", "training", "--host", fake.url, *(["--token", token] if token else []))
    assert error.startswith(f"loopline: error: KFP at {fake.url} refused the credentials (HTTP {status}): ")


def test_login_redirect(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    fake.token, fake.login_redirect = "s3cret", "https://kubeflow.example.com/dex/auth"
    assert one_error_line(capsys, "runs", "list", "--host", fake.url) == (
        f"loopline: error: KFP at {fake.url} redirected to https://kubeflow.example.com/dex/auth (a login page?): "
        "pass --token or set KF_PIPELINES_SA_TOKEN_PATH")


def test_unknown_pipeline_and_experiment(capsys: pytest.CaptureFixture[str], fake: FakeKFP) -> None:
    assert one_error_line(capsys, "submit", "training", "--host", fake.url, *PARAMS) == (
        f"loopline: error: no pipeline named {KFP_NAME} at {fake.url} (uploaded: none)")
    uploaded(capsys, fake)
    assert one_error_line(capsys, "schedule", "create", "data-validation", "--host", fake.url, "--every", "1h") == (
        f"loopline: error: no pipeline named loopline-data-validation at {fake.url} (uploaded: {KFP_NAME})")
    ok(capsys, "submit", "training", "--host", fake.url, *PARAMS)
    assert one_error_line(capsys, "runs", "list", "--host", fake.url, "--experiment", "nope") == (
        f"loopline: error: no experiment named nope at {fake.url} (experiments: loopline)")
    assert one_error_line(capsys, "schedule", "list", "--host", fake.url, "--experiment", "nope") == (
        f"loopline: error: no experiment named nope at {fake.url} (experiments: loopline)")


def test_host_is_required_and_must_be_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert one_error_line(capsys, "runs", "list") == (
        "loopline: error: no KFP host: pass --host or set KF_PIPELINES_ENDPOINT")
    assert one_error_line(capsys, "runs", "list", "--host", "localhost:8080") == (
        "loopline: error: KFP host 'localhost:8080' must start with http:// or https://")
