"""The kustomize overlays render offline and their objects are what a cluster would accept.

No cluster runs here, so nothing is applied: built-in kinds are checked against the Kubernetes
OpenAPI schemas (kubernetes-validate, strict), the ServingRuntime against KServe's own SDK models,
and the Prometheus Operator objects (PodMonitor, PrometheusRule) field by field, because no CRD
schema for them is available offline. Metric names and labels are checked against the /metrics
page of a real predictor that has answered a good, a refused, an explained and a failed request.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import kubernetes_validate
import pytest
from kubernetes.client.rest import ApiException
from manifest_metrics import (
    MANIFESTS,
    OVERLAYS,
    ROOT,
    References,
    dashboards,
    exported,
    kustomize,
    queries,
    references,
    scrape_labels,
)
from monitor_metric_names import MONITOR_METRICS, PREFIX, PUSHED_LABELS

from components._image import Images
from components.deploy.inference_service import MODEL_FORMAT, RUNTIME, ServiceSettings, render
from components.deploy.kubernetes_target import GROUP, PLURAL, apply_and_wait
from components.lib.serving import LocalServer, call, fetch_text
from fakes.kfp_api import FakeKFP
from loopline import paths

KUBERNETES_VERSION = "1.32"
CRD_GROUPS = ("serving.kserve.io/", "monitoring.coreos.com/")
WORKLOAD_IDENTITY = "iam.gke.io/gcp-service-account"
GOOGLE_ACCOUNT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$")
RUNNER, PREDICTOR_ACCOUNT, ROLE = "loopline-pipeline-runner", "loopline-predictor", "loopline-deployer"
RETRAINER = "loopline-retrainer"
PUSHGATEWAY = "loopline-pushgateway"
# What issue 5 allows the pipeline runner at most, and what it is granted (written out; tests below
# also derive it from the calls the deploy step makes).
PERMITTED_VERBS = {"get", "list", "watch", "create", "patch", "delete"}
ALLOWED = {("serving.kserve.io", "inferenceservices", verb) for verb in ("get", "create", "patch", "delete")}

overlays = pytest.mark.parametrize("overlay", sorted(OVERLAYS))


def rendered(overlay: str) -> list[dict[str, Any]]:
    """The objects of one overlay, as `kubectl kustomize` renders them."""
    return kustomize(MANIFESTS / "overlays" / overlay)


def only(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of a kind (and name)."""
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


# -- rendering, namespaces, schemas ----------------------------------------------------------------

@overlays
def test_overlay_renders_the_expected_objects_in_its_namespace(overlay: str) -> None:
    objects = rendered(overlay)
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
    assert kinds == sorted([
        ("Namespace", OVERLAYS[overlay]), ("ServiceAccount", RUNNER), ("ServiceAccount", PREDICTOR_ACCOUNT),
        ("Role", ROLE), ("RoleBinding", ROLE), ("Role", RETRAINER), ("RoleBinding", RETRAINER),
        ("ServingRuntime", RUNTIME), ("PodMonitor", "loopline-predictor"),
        ("PrometheusRule", "loopline-predictor"), ("ConfigMap", "loopline-grafana-dashboard"),
        ("Deployment", PUSHGATEWAY), ("Service", PUSHGATEWAY), ("ServiceMonitor", PUSHGATEWAY),
    ])
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == OVERLAYS[overlay], obj["metadata"]
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "loopline"


@overlays
def test_builtin_kinds_validate_against_the_kubernetes_openapi_schema(overlay: str) -> None:
    builtin = [o for o in rendered(overlay) if not o["apiVersion"].startswith(CRD_GROUPS)]
    assert {o["kind"] for o in builtin} == {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap",
                                           "Deployment", "Service"}
    for obj in builtin:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)  # raises on any error


def test_the_schema_check_is_strict() -> None:
    """A misspelt field and a wrong type are refused: the validation above can fail."""
    account = only(rendered("dev"), "ServiceAccount", RUNNER)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**account, "automountToken": True}, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**account, "automountServiceAccountToken": "yes"}, KUBERNETES_VERSION,
                                     strict=True)


# -- the ServingRuntime ----------------------------------------------------------------------------

@pytest.mark.serving
def test_serving_runtime_is_what_kserves_own_models_accept(kserve_roundtrip) -> None:
    runtimes = [only(rendered(overlay), "ServingRuntime") for overlay in sorted(OVERLAYS)]
    broken = json.loads(json.dumps(runtimes[0]))
    broken["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    *fine, lost = kserve_roundtrip([*runtimes, broken], "V1alpha1ServingRuntime")
    assert fine == [[] for _ in runtimes]
    assert lost == ["ServingRuntime.spec.containers[0].imagePullPolicyy was dropped: not a field of KServe's model"]


@overlays
def test_serving_runtime_container_validates_as_a_kubernetes_container(overlay: str) -> None:
    runtime = only(rendered(overlay), "ServingRuntime")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runtime-containers"},
           "spec": {"containers": runtime["spec"]["containers"]}}
    kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)


@overlays
def test_serving_runtime_is_the_one_the_deploy_step_names(overlay: str) -> None:
    runtime = only(rendered(overlay), "ServingRuntime")
    source = kustomize(ROOT / "kserve" / "templates")
    assert [o["kind"] for o in source] == ["ServingRuntime"]  # the one copy, kserve/templates

    def sizeless(spec: dict[str, Any]) -> dict[str, Any]:
        return {**spec, "containers": [{k: v for k, v in c.items() if k != "resources"} for c in spec["containers"]]}

    assert sizeless(runtime["spec"]) == sizeless(source[0]["spec"])  # overlays change the size only
    assert (runtime["spec"] == source[0]["spec"]) is (overlay == "dev")
    predictor = render("penguins", "gs://b/r/penguins/versions/1", 1, ServiceSettings())["spec"]["predictor"]
    assert runtime["metadata"]["name"] == predictor["model"]["runtime"] == RUNTIME
    assert [f["name"] for f in runtime["spec"]["supportedModelFormats"]] == [MODEL_FORMAT]
    container = runtime["spec"]["containers"][0]
    assert container["image"] == Images().serving  # the image components/_image.py names
    assert "--http_port=8080" in container["args"] and container["ports"][0]["containerPort"] == 8080


def _cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _memory(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return int(float(quantity[:-2]) * units[quantity[-2:]]) if quantity[-2:] in units else int(quantity)


def test_prod_gives_the_predictor_more_resources_than_dev() -> None:
    dev, prod = ({kind: only(rendered(o), "ServingRuntime")["spec"]["containers"][0]["resources"][kind]
                  for kind in ("requests", "limits")} for o in ("dev", "prod"))
    for kind in ("requests", "limits"):
        assert _cpu(prod[kind]["cpu"]) > _cpu(dev[kind]["cpu"])
        assert _memory(prod[kind]["memory"]) > _memory(dev[kind]["memory"])
    assert _cpu(prod["requests"]["cpu"]) <= _cpu(prod["limits"]["cpu"])
    assert _memory(prod["requests"]["memory"]) <= _memory(prod["limits"]["memory"])


def test_an_overlay_can_retag_the_serving_image(tmp_path: Path) -> None:
    """kustomize `images:` reaches the ServingRuntime's container (a CRD field)."""
    overlay = tmp_path / "retagged"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        f"resources:\n  - {os.path.relpath(MANIFESTS / 'overlays' / 'dev', overlay)}\n"
        f"images:\n  - name: {Images().serving.rsplit(':', 1)[0]}\n    newTag: 9.9.9-test\n")
    image = only(kustomize(overlay), "ServingRuntime")["spec"]["containers"][0]["image"]
    assert image == f"{Images().serving.rsplit(':', 1)[0]}:9.9.9-test"


# -- RBAC: the pipeline runner may do what the deploy step does, in its namespace, and no more -----

class RecordingApi:
    """Stands in for kubernetes.client.CustomObjectsApi: records each method and its group/plural."""

    def __init__(self, exists: bool, becomes_ready: bool) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.becomes_ready = becomes_ready
        self.stored: dict[str, Any] | None = self._stored(self._service(0)) if exists else None

    @staticmethod
    def _service(version: int) -> dict[str, Any]:
        return render("penguins", f"gs://b/r/penguins/versions/{version}", version, ServiceSettings())

    def _stored(self, body: dict[str, Any]) -> dict[str, Any]:
        status = "True" if self.becomes_ready else "False"
        return {**body, "metadata": {**body["metadata"], "resourceVersion": "7"},
                "status": {"conditions": [{"type": "Ready", "status": status}]}}

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(group: str, version: str, namespace: str, plural: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, group, plural))
            if method.startswith("get_"):
                if self.stored is None:
                    raise ApiException(status=404)
                return self.stored
            if method.startswith(("create_", "replace_")):
                self.stored = self._stored(args[-1])
                return self.stored
            if method.startswith("patch_"):  # a merge patch: the spec changes, the object stays
                self.stored = self._stored({**self.stored, "spec": {**self.stored["spec"], **args[-1]["spec"]}})
                return self.stored
            if method.startswith("delete_"):
                self.stored = None
                return {}
            raise AssertionError(f"the deploy step called {method}, which this recorder does not model")
        return call


# CustomObjectsApi method -> the RBAC verb the API server checks for it.
VERBS = {"get_namespaced_custom_object": "get", "list_namespaced_custom_object": "list",
         "create_namespaced_custom_object": "create", "replace_namespaced_custom_object": "update",
         "patch_namespaced_custom_object": "patch", "delete_namespaced_custom_object": "delete"}


def _verbs_the_deploy_step_uses() -> set[tuple[str, str, str]]:
    used: set[tuple[str, str, str]] = set()
    for exists in (False, True):
        for ready in (False, True):
            api = RecordingApi(exists, ready)
            outcome = apply_and_wait(api, api._service(1), timeout=5 if ready else 0.05, poll=0.01)
            assert outcome.ready is ready, outcome
            for method, group, plural in api.calls:
                assert method in VERBS, f"{method}: not a namespaced call, would need more than a Role"
                used.add((group, plural, VERBS[method]))
    return used


@overlays
def _granted(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) for every rule of a Role; rules only of that plain shape, no wildcards."""
    granted = set()
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, rule  # no resourceNames/nonResourceURLs
        granted |= {(g, r, v) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    assert not {part for triple in granted for part in triple if "*" in part}
    return granted


@overlays
def test_role_grants_exactly_what_the_deploy_step_uses(overlay: str) -> None:
    objects = rendered(overlay)
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    granted = _granted(only(objects, "Role", ROLE))
    assert granted == ALLOWED and {verb for _, _, verb in granted} <= PERMITTED_VERBS
    assert _verbs_the_deploy_step_uses() == ALLOWED
    assert (GROUP, PLURAL) == ("serving.kserve.io", "inferenceservices")


# The KFP API server's authorization of each call the retrain step makes (its apiserver checks
# group pipelines.kubeflow.org; pipeline versions are checked as `pipelines`): (method, path) -> (resource, verb).
KFP_CHECKS = (("GET", r"/pipelines", ("pipelines", "list")), ("GET", r"/pipelines/[^/]+", ("pipelines", "get")),
              ("GET", r"/pipelines/[^/]+/versions", ("pipelines", "list")),
              ("GET", r"/pipelines/[^/]+/versions/[^/]+", ("pipelines", "get")),
              ("GET", r"/experiments", ("experiments", "list")), ("GET", r"/experiments/[^/]+", ("experiments", "get")),
              ("POST", r"/experiments", ("experiments", "create")), ("POST", r"/runs", ("runs", "create")))


def _kfp_checks_the_retrain_step_meets(fake: FakeKFP) -> set[tuple[str, str, str]]:
    """Upload the training pipeline to the KFP fake, then record only what the retrain step's submit sends."""
    from components.retrain.executor import kfp_submitter
    from fakes.kfp_api import PREFIX
    from loopline import cli

    assert cli.main(["upload", "training", "--host", fake.url]) == 0
    fake.requests.clear()
    kfp_submitter(fake.url, "", "loopline-training", "loopline-retraining")(
        {"source": "gs://b/new.csv", "registry_uri": "gs://b/registry", "model_name": "penguins"})
    used = set()
    for request in fake.requests:
        if request.path == PREFIX + "/healthz":
            continue  # unauthenticated
        found = [check for method, path, check in KFP_CHECKS
                 if method == request.method and re.fullmatch(PREFIX + path, request.path)]
        assert found, f"the retrain step called {request.method} {request.path}, which KFP_CHECKS does not map"
        used.add(("pipelines.kubeflow.org", *found[0]))
    return used


@overlays
def test_retrainer_role_grants_exactly_what_the_retrain_steps_kfp_calls_need(
    overlay: str, fake_kfp: FakeKFP
) -> None:
    used = _kfp_checks_the_retrain_step_meets(fake_kfp)
    assert ("pipelines.kubeflow.org", "runs", "create") in used
    assert _granted(only(rendered(overlay), "Role", RETRAINER)) == used


@overlays
@pytest.mark.parametrize("role", [ROLE, RETRAINER])
def test_role_binding_binds_only_the_runner_in_its_own_namespace(overlay: str, role: str) -> None:
    objects, namespace = rendered(overlay), OVERLAYS[overlay]
    binding = only(objects, "RoleBinding", role)
    assert binding["metadata"]["namespace"] == namespace
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RUNNER, "namespace": namespace}]
    assert only(objects, "ServiceAccount", RUNNER)["metadata"]["namespace"] == namespace
    assert only(objects, "Role", role)["metadata"]["namespace"] == namespace
    bound = {s["name"] for o in objects if o["kind"] == "RoleBinding" for s in o["subjects"]}
    assert PREDICTOR_ACCOUNT not in bound  # the predictor never calls the Kubernetes API
    assert only(objects, "ServiceAccount", PREDICTOR_ACCOUNT)["automountServiceAccountToken"] is False


# -- credentials -----------------------------------------------------------------------------------

@overlays
def test_service_accounts_use_workload_identity(overlay: str) -> None:
    accounts = [o for o in rendered(overlay) if o["kind"] == "ServiceAccount"]
    emails = set()
    for account in accounts:
        email = account["metadata"].get("annotations", {}).get(WORKLOAD_IDENTITY, "")
        assert GOOGLE_ACCOUNT.match(email), f"{account['metadata']['name']}: {email!r}"
        assert "secrets" not in account and "imagePullSecrets" not in account
        emails.add(email)
    assert len(emails) == len(accounts) == 2
    other = "prod" if overlay == "dev" else "dev"
    other_emails = {o["metadata"]["annotations"][WORKLOAD_IDENTITY] for o in rendered(other)
                    if o["kind"] == "ServiceAccount"}
    assert not emails & other_emails  # each environment acts as its own Google accounts


KEY_NAMES = re.compile(r"^(password|passwd|secret|token|api_?key|private_?key|client_?secret|access_?key|"
                       r"secret_?access_?key|credentials?)$", re.IGNORECASE)
KEY_VALUES = [re.compile(p) for p in (
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----", r"\"type\":\s*\"service_account\"", r"AKIA[0-9A-Z]{16}",
    r"AIza[0-9A-Za-z_\-]{35}", r"gh[pousr]_[A-Za-z0-9]{36}", r"xox[abpr]-[A-Za-z0-9-]+",
    r"GOOGLE_APPLICATION_CREDENTIALS", r"^[A-Za-z0-9+/]{60,}={0,2}$")]


def _credential_findings(value: Any, where: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if KEY_NAMES.match(str(key)):
                yield f"{where}.{key}: a credential-like key"
            yield from _credential_findings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _credential_findings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        for pattern in KEY_VALUES:
            if pattern.search(value):
                yield f"{where}: matches {pattern.pattern}"


@overlays
def test_no_credentials_in_any_rendered_object(overlay: str) -> None:
    objects = rendered(overlay)
    assert not [o for o in objects if o["kind"] == "Secret"]  # none at all, let alone with data
    findings = [f for o in objects for f in _credential_findings(o, f"{o['kind']}/{o['metadata']['name']}")]
    findings += [f for name, board in dashboards(objects) for f in _credential_findings(board, name)]
    assert findings == []


def test_the_credential_scan_finds_keys() -> None:
    """The scan above can fail: a key file, a password field and an access key id are all found."""
    planted = {"data": {"key.json": '{"type": "service_account", "private_key": "-----BEGIN ' + 'PRIVATE KEY-----"}'},
               "env": [{"name": "X", "value": "AKIA" + "ABCDEFGHIJKLMNOP"}], "password": "hunter2"}
    findings = list(_credential_findings(planted))
    assert len(findings) == 4, findings


# -- monitoring ------------------------------------------------------------------------------------

PODMONITOR_SPEC_KEYS = {"jobLabel", "podTargetLabels", "podMetricsEndpoints", "selector", "namespaceSelector",
                        "sampleLimit", "targetLimit", "labelLimit", "attachMetadata", "scrapeClass"}
ENDPOINT_KEYS = {"port", "portNumber", "targetPort", "path", "scheme", "params", "interval", "scrapeTimeout",
                 "tlsConfig", "honorLabels", "honorTimestamps", "metricRelabelings", "relabelings",
                 "followRedirects", "enableHttp2", "filterRunning"}
RELABEL_KEYS = {"sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action"}
RELABEL_ACTIONS = {"replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase",
                   "uppercase", "keepequal", "dropequal"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


@overlays
def test_pod_monitor_selects_the_predictor_pods_and_port(overlay: str) -> None:
    """Checked field by field (no PodMonitor CRD schema offline) against the operator's API fields."""
    objects = rendered(overlay)
    monitor = only(objects, "PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    assert set(spec) <= PODMONITOR_SPEC_KEYS and "namespaceSelector" not in spec  # its own namespace only
    # KServe puts the InferenceService's labels and these two on every predictor pod.
    service_labels = render("penguins", "gs://b/r/penguins/versions/1", 1, ServiceSettings())["metadata"]["labels"]
    assert spec["selector"]["matchLabels"] == {"component": "predictor",
                                               "app.kubernetes.io/part-of": service_labels["app.kubernetes.io/part-of"]}
    assert spec["selector"]["matchExpressions"] == [{"key": "serving.kserve.io/inferenceservice",
                                                     "operator": "Exists"}]
    [endpoint] = spec["podMetricsEndpoints"]
    assert set(endpoint) <= ENDPOINT_KEYS and endpoint["path"] == "/metrics" and DURATION.match(endpoint["interval"])
    for relabel in endpoint["relabelings"]:
        assert set(relabel) <= RELABEL_KEYS and relabel["action"] in RELABEL_ACTIONS, relabel
        re.compile(relabel.get("regex", "(.*)"))
    container = only(objects, "ServingRuntime")["spec"]["containers"][0]
    keep = [r for r in endpoint["relabelings"] if r["action"] == "keep"]
    assert keep == [{"action": "keep", "regex": f"{container['name']};{container['ports'][0]['containerPort']}",
                     "sourceLabels": ["__meta_kubernetes_pod_container_name",
                                      "__meta_kubernetes_pod_container_port_number"]}]


SERVICEMONITOR_SPEC_KEYS = {"jobLabel", "targetLabels", "podTargetLabels", "endpoints", "selector",
                            "namespaceSelector", "sampleLimit", "targetLimit", "labelLimit", "attachMetadata",
                            "scrapeClass"}
PUSHGATEWAY_IMAGE = re.compile(r"^prom/pushgateway:v\d+\.\d+\.\d+$")  # an exact release, never latest


@overlays
def test_service_monitor_scrapes_the_pushgateway_keeping_the_pushed_labels(overlay: str) -> None:
    """Checked field by field (no ServiceMonitor CRD schema offline): it selects the Pushgateway's
    Service by its labels, names that Service's port, and honours the pushed job and model labels."""
    objects = rendered(overlay)
    monitor, service = only(objects, "ServiceMonitor", PUSHGATEWAY), only(objects, "Service", PUSHGATEWAY)
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    assert set(spec) <= SERVICEMONITOR_SPEC_KEYS and "namespaceSelector" not in spec  # its own namespace only
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    [endpoint] = spec["endpoints"]
    assert set(endpoint) <= ENDPOINT_KEYS and endpoint["path"] == "/metrics" and DURATION.match(endpoint["interval"])
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["honorLabels"] is True  # else `job`/`model` arrive as exported_job/exported_model


@overlays
def test_pushgateway_is_one_pinned_non_root_replica_behind_its_service(overlay: str) -> None:
    objects = rendered(overlay)
    deployment, service = only(objects, "Deployment", PUSHGATEWAY), only(objects, "Service", PUSHGATEWAY)
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"  # never two holding half the pushes
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    [container] = pod["containers"]
    assert PUSHGATEWAY_IMAGE.match(container["image"]), container["image"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and "memory" in container["resources"]["limits"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert container["readinessProbe"]["httpGet"]["port"] in ports
    [service_port] = service["spec"]["ports"]
    assert service_port["targetPort"] in ports
    assert f"--web.listen-address=:{ports[service_port['targetPort']]}" in container["args"]
    persistence = [a for a in container["args"] if a.startswith("--persistence.file=")]
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert len(persistence) == 1 and any(persistence[0].split("=", 1)[1].startswith(m + "/") for m in mounts)


RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}


@overlays
def test_prometheus_rule_has_the_alerts_on_the_right_metrics(overlay: str) -> None:
    """Checked field by field (no PrometheusRule CRD schema offline); PromQL read by manifest_metrics."""
    rule_object = only(rendered(overlay), "PrometheusRule")
    assert rule_object["apiVersion"] == "monitoring.coreos.com/v1" and set(rule_object["spec"]) == {"groups"}
    alerts: dict[str, dict[str, Any]] = {}
    for group in rule_object["spec"]["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"} and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS and ("alert" in rule) != ("record" in rule), rule
            assert "for" not in rule or DURATION.match(rule["for"])
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert {"summary", "description"} <= set(rule["annotations"])
            assert rule["alert"] not in alerts, f"duplicate alert {rule['alert']}"
            alerts[rule["alert"]] = rule
    reads = {name: references(rule["expr"]).metrics for name, rule in alerts.items()}
    assert reads["LooplinePredictorErrorRate"] == {"loopline_failed_requests_total", "request_preprocess_seconds_count"}
    assert reads["LooplinePredictorRejectedRequests"] == {"loopline_rejected_requests_total",
                                                         "request_preprocess_seconds_count"}
    assert reads["LooplinePredictorLatencyP99"] == {"request_predict_seconds_bucket"}
    assert reads["LooplinePredictionLogFailing"] == {"loopline_prediction_log_spooled_rows"}
    assert reads["LooplinePredictionLogDroppingRows"] == {"loopline_prediction_log_dropped_rows_total"}
    assert reads["LooplineFeatureDrift"] == {"loopline_monitor_drift", "loopline_monitor_drift_threshold",
                                             "loopline_monitor_drift_noise_floor"}
    assert reads["LooplinePerformanceBelowFloor"] == {"loopline_monitor_performance",
                                                      "loopline_monitor_performance_high",
                                                      "loopline_monitor_performance_floor"}
    assert reads["LooplinePerformanceAboveCeiling"] == {"loopline_monitor_performance",
                                                        "loopline_monitor_performance_low",
                                                        "loopline_monitor_performance_ceiling"}
    assert reads["LooplineLabelCoverageCollapsed"] == {"loopline_monitor_label_coverage",
                                                       "loopline_monitor_mature_rows"}
    assert reads["LooplineMonitoringStale"] == {"loopline_monitor_last_success_timestamp_seconds",
                                                "loopline_monitor_window_seconds"}
    assert reads["LooplineMonitoringSeriesGone"] == {"loopline_monitor_last_success_timestamp_seconds"}
    assert reads["LooplineCanaryWorse"] == {"loopline_monitor_canary_verdict"}
    for name in ("LooplineFeatureDrift", "LooplinePerformanceBelowFloor", "LooplinePerformanceAboveCeiling",
                 "LooplineLabelCoverageCollapsed"):  # production only: a canary's numbers are the canary's business
        assert re.search(r'role="production"', alerts[name]["expr"]), name
    assert re.search(r"histogram_quantile\(\s*0\.99\s*,", alerts["LooplinePredictorLatencyP99"]["expr"])
    paging = {name for name, rule in alerts.items() if rule["labels"]["severity"] == "critical"}
    assert paging == ({"LooplinePredictorErrorRate", "LooplinePredictorLatencyP99"} if overlay == "prod" else set())


def test_promql_reader_reads_names_and_labels_and_refuses_what_it_cannot_attribute() -> None:
    found = references('histogram_quantile(0.99, sum by (ns, le) (rate(x_bucket{job="a", pod=~"$p"}[5m]))) '
                       '/ sum by (ns) (rate(y_total[$__rate_interval])) > 1e3')
    assert found.metrics == {"x_bucket", "y_total"}
    assert found.labels == {("x_bucket", "ns"), ("x_bucket", "le"), ("x_bucket", "job"), ("x_bucket", "pod"),
                            ("y_total", "ns")}
    matched = references("(x > on (a, b) group_left y) > z and on (c) w")
    assert matched.metrics == {"x", "y", "z", "w"}  # `on` labels: every metric in its parentheses
    assert matched.labels == {("x", "a"), ("x", "b"), ("y", "a"), ("y", "b"),
                              ("x", "c"), ("y", "c"), ("z", "c"), ("w", "c")}
    for unsupported in ("sum(x) by (a)", "x / ignoring (a) y", "x / on (a) group_left (b) y", "x / on a y",
                        "sum without (a) (x)", 'label_replace(x, "a", "$1", "b", "(.*)")', "sum by (a) (x"):
        with pytest.raises(ValueError):
            references(unsupported)


@overlays
def test_grafana_dashboard_is_shipped_for_the_sidecar_and_well_formed(overlay: str) -> None:
    objects = rendered(overlay)
    config_map = only(objects, "ConfigMap", "loopline-grafana-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    [(name, board)] = list(dashboards(objects))
    assert board == json.loads((MANIFESTS / "base" / "grafana" / "loopline-predictor.json").read_text())
    assert board["uid"] == "loopline-predictor" and board["title"]
    variables = {v["name"] for v in board["templating"]["list"]}
    assert {"datasource", "namespace", "inferenceservice"} <= variables
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)) >= 6
    for panel in board["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"} and panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"] and len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        for target in panel["targets"]:
            used = set(re.findall(r"\$(?:\{)?([A-Za-z_]\w*)", target["expr"])) - {"__rate_interval"}
            assert used <= variables, f"{panel['title']}: undefined variables {used - variables}"
    where = [w for w, _ in queries(objects)]  # every query parses
    assert sum(w.startswith(name) for w in where) >= len(ids)
    dashboard_metrics = set().union(*(r.metrics for w, r in queries(objects) if w.startswith(name)))
    assert {"request_predict_seconds_bucket", "loopline_predictions_total", "loopline_rejected_requests_total",
            "loopline_failed_requests_total"} <= dashboard_metrics
    assert {"loopline_monitor_drift", "loopline_monitor_performance", "loopline_monitor_performance_low",
            "loopline_monitor_performance_high", "loopline_monitor_label_coverage", "loopline_monitor_decision",
            "loopline_monitor_last_success_timestamp_seconds"} <= dashboard_metrics


@pytest.mark.serving
def test_every_metric_and_label_the_manifests_query_is_exported(good_and_broken_models: Path) -> None:
    """The rendered alert rules and Grafana dashboards against a real predictor's /metrics, after
    one request of each outcome (a labelled counter has no series until first incremented)."""
    row = {"island": "Biscoe", "bill_length_mm": 45.0, "bill_depth_mm": 15.0, "flipper_length_mm": 215,
           "body_mass_g": 5200, "sex": "male", "year": 2008}
    with LocalServer(good_and_broken_models, "unused", python=str(paths.SERVING_PYTHON)) as server:
        assert call(f"{server.url}/v1/models/good:predict", {"instances": [row]})[0] == 200
        assert call(f"{server.url}/v1/models/good:predict", {"instances": [{**row, "wings": 2}]})[0] == 400
        assert call(f"{server.url}/v1/models/good:explain", {"instances": [row]})[0] == 200
        assert call(f"{server.url}/v1/models/broken:predict", {"instances": [{**row, "island": 1.0}]})[0] == 500
        series = exported(fetch_text(f"{server.url}/metrics"))
    assert series["request_predict_seconds_bucket"] >= {"model_name", "le"}  # KServe 0.21 labels: model_name only
    for overlay in OVERLAYS:
        objects = kustomize(MANIFESTS / "overlays" / overlay)
        found, scraped = queries(objects), scrape_labels(objects)
        assert len(found) >= 10
        found = [(where, _without_monitor_metrics(refs)) for where, refs in found]  # checked by the test below
        missing = {(where, metric) for where, refs in found for metric in refs.metrics if metric not in series}
        assert not missing, f"queried but not exported: {sorted(missing)}"
        wrong = {(where, metric, label) for where, refs in found for metric, label in refs.labels
                 if label not in scraped and label not in (series[metric] or set())}
        assert not wrong, f"labels the series do not carry: {sorted(wrong)}"


def _without_monitor_metrics(refs: References) -> References:
    """`refs` without the monitor step's metrics (they come from the Pushgateway, not the predictor)."""
    return References({m for m in refs.metrics if not m.startswith(PREFIX)},
                      {(m, label) for m, label in refs.labels if not m.startswith(PREFIX)})


@overlays
def test_every_monitor_metric_and_label_the_manifests_query_is_in_the_contract(overlay: str) -> None:
    """The rules and dashboards against the monitor step's metric contract: the pushed labels, the
    Pushgateway's job/instance and what the ServiceMonitor's scrape adds."""
    objects = rendered(overlay)
    found, scraped = queries(objects), scrape_labels(objects, "ServiceMonitor") | PUSHED_LABELS
    used = {(where, metric) for where, refs in found for metric in refs.metrics if metric.startswith(PREFIX)}
    assert {metric for _, metric in used} >= {"loopline_monitor_drift", "loopline_monitor_performance",
                                              "loopline_monitor_last_success_timestamp_seconds"}
    unknown = sorted(u for u in used if u[1] not in MONITOR_METRICS)
    assert not unknown, f"queried but not in the monitor's metric contract: {unknown}"
    wrong = {(where, metric, label) for where, refs in found for metric, label in refs.labels
             if metric.startswith(PREFIX) and label not in scraped | MONITOR_METRICS[metric]}
    assert not wrong, f"labels the series do not carry: {sorted(wrong)}"
