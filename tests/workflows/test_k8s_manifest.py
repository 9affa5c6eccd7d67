"""``invoke dev.k8s-manifest``: valid Kubernetes objects, secrets by reference, clear bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from devtools_support import contribkit, write_project

from contribkit.core.config import load_config
from contribkit.core.errors import UsageError
from contribkit.workflows import k8s

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = "1.37.0"


def documents(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


@pytest.fixture(scope="module")
def flowdesk_manifest() -> list[dict]:  # type: ignore[type-arg]
    return documents(k8s.render(load_config(ROOT), namespace="flowdesk-dev"))


def test_every_object_passes_the_kubernetes_schema(flowdesk_manifest) -> None:  # type: ignore[no-untyped-def]
    assert [doc["kind"] for doc in flowdesk_manifest] == ["Deployment", "Service"]
    for doc in flowdesk_manifest:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_schema_check_catches_a_broken_object(flowdesk_manifest) -> None:  # type: ignore[no-untyped-def]
    broken = yaml.safe_load(yaml.safe_dump(flowdesk_manifest[0]))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_flowdesk_dev_deployment(flowdesk_manifest) -> None:  # type: ignore[no-untyped-def]
    deployment, service = flowdesk_manifest
    assert deployment["metadata"] == {
        "name": "flowdesk-dev",
        "namespace": "flowdesk-dev",
        "labels": {
            "app.kubernetes.io/name": "flowdesk",
            "app.kubernetes.io/instance": "flowdesk-dev",
        },
    }
    pod = deployment["spec"]["template"]["spec"]
    (api,) = pod["containers"]
    assert api["image"] == "flowdesk:dev"
    assert api["command"] == [
        "python",
        "-m",
        "uvicorn",
        "flowdesk.server.api:create_app",
        "--factory",
        "--host",
        "0.0.0.0",
        "--port",
        "4200",
    ]
    # The probes name localhost: the kubelet's own Host (the pod's IP) is not an allowed host.
    probe = {
        "path": "/api/health",
        "port": "http",
        "httpHeaders": [{"name": "Host", "value": "localhost"}],
    }
    assert api["readinessProbe"]["httpGet"] == probe
    assert api["livenessProbe"]["httpGet"] == probe
    assert api["livenessProbe"]["failureThreshold"] * api["livenessProbe"]["periodSeconds"] >= 60
    assert pod["automountServiceAccountToken"] is False
    assert set(api["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert api["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["initContainers"][0]["command"] == [
        "flowdesk",
        "server",
        "database",
        "upgrade",
        "-y",
    ]
    assert service["spec"]["ports"] == [{"name": "http", "port": 4200, "targetPort": "http"}]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_database_url_and_the_api_token_come_from_secrets(flowdesk_manifest) -> None:  # type: ignore[no-untyped-def]
    pod = flowdesk_manifest[0]["spec"]["template"]["spec"]
    database = {
        "name": "FLOWDESK_DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "flowdesk-dev-database", "key": "url"}},
    }
    token = {
        "name": "FLOWDESK_API_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "flowdesk-dev-api-token", "key": "token"}},
    }
    assert pod["initContainers"][0]["env"] == [database]
    (api,) = pod["containers"]
    assert api["env"][:2] == [database, token]
    # The one literal: the names the Service is reached by, and localhost for port-forward.
    (hosts,) = api["env"][2:]
    assert hosts["name"] == "FLOWDESK_ALLOWED_HOSTS"
    assert hosts["value"].split(",") == [
        "flowdesk-dev",
        "flowdesk-dev.flowdesk-dev",
        "flowdesk-dev.flowdesk-dev.svc",
        "flowdesk-dev.flowdesk-dev.svc.cluster.local",
        "localhost",
        "127.0.0.1",
    ]


def test_the_header_says_how_to_create_both_secrets() -> None:
    text = k8s.render(load_config(ROOT), namespace="dev")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert (
        "#   kubectl -n dev create secret generic flowdesk-dev-database --from-literal=url='<database URL>'"
        in header
    )
    assert any(
        "create secret generic flowdesk-dev-api-token --from-literal=token=" in line
        for line in header
    )


def test_without_the_token_and_hosts_keys_there_are_no_such_variables(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"name": "demo", "app": "demo.app:create"})
    (deployment, _) = documents(k8s.render(config))
    (api,) = deployment["spec"]["template"]["spec"]["containers"]
    assert [env["name"] for env in api["env"]] == ["DATABASE_URL"]
    assert "api-token" not in k8s.render(config)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("api_port", 70000, "api_port must be a port number from 1 to 65535, not 70000"),
        ("api_port", 0, "api_port must be a port number from 1 to 65535, not 0"),
        ("database_url_env", "DATABASE URL", "database_url_env must name an environment variable"),
        ("api_token_env", "1TOKEN", "api_token_env must name an environment variable"),
        ("allowed_hosts_env", "HOSTS=x", "allowed_hosts_env must name an environment variable"),
    ],
)
def test_a_port_or_variable_name_kubernetes_would_refuse_is_one_line(
    tmp_path: Path, key: str, value: object, message: str
) -> None:
    with pytest.raises(UsageError) as refused:
        write_project(tmp_path, {"name": "demo", "app": "demo.app:create", key: value})
    assert refused.value.message.startswith(f"[tool.contribkit] {message}")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--image", "flowdesk dev", "image 'flowdesk dev' is not a valid image reference"),
        ("--image", "Flowdesk:dev", "image 'Flowdesk:dev' is not a valid image reference"),
        ("--namespace", "Dev_Space", "namespace 'Dev_Space' is not a valid DNS-1123 label"),
        ("--namespace", "-dev", "namespace '-dev' is not a valid DNS-1123 label"),
        ("--namespace", "x" * 64, f"namespace '{'x' * 64}' is not a valid DNS-1123 label"),
    ],
)
def test_bad_input_is_one_sentence_and_prints_nothing(
    option: str, value: str, message: str
) -> None:
    result = contribkit("dev", "k8s-manifest", f"{option}={value}", cwd=ROOT)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "image",
    ["flowdesk", "localhost:5000/team/flowdesk:1.2.3", "ghcr.io/acme/flowdesk@sha256:" + "a" * 64],
)
def test_valid_image_references_are_accepted(tmp_path: Path, image: str) -> None:
    config = write_project(tmp_path, {"name": "demo", "app": "demo.app:create"})
    (deployment, _) = documents(k8s.render(config, image=image))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert "initContainers" not in deployment["spec"]["template"]["spec"]


def test_invoke_task_rejects_bad_input_the_same_way() -> None:
    invoke = Path(sys.executable).parent / "invoke"
    result = subprocess.run(
        [invoke, "dev.k8s-manifest", "--namespace", "Not A Label"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: namespace 'Not A Label' is not a valid DNS-1123 label")


def test_cli_output_is_the_manifest_for_kubectl() -> None:
    result = contribkit("dev", "k8s-manifest", "--image", "registry.local/flowdesk:dev", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# flowdesk-dev: a development deployment of the API.")
    kinds = [doc["kind"] for doc in documents(result.stdout)]
    assert kinds == ["Deployment", "Service"]


def test_a_project_needs_a_name_for_its_manifest(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"app": "demo.app:create"})
    with pytest.raises(UsageError, match=r"^no name configured: set \[tool.contribkit\] name = "):
        k8s.render(config)
