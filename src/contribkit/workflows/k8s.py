"""A Kubernetes manifest for a development deployment of the project's API.

A Deployment ``<name>-dev`` running the ``app`` factory with uvicorn, and a Service on
``api_port``. The database URL comes from a Secret (``<name>-dev-database``, key ``url``) into
the variable named by ``database_url_env``: a password never appears in the manifest. When
``upgrade`` names a migration command it runs first, as an init container.

When the project names them, the app's API token comes from a Secret too
(``<name>-dev-api-token``, key ``token``, into ``api_token_env``), and ``allowed_hosts_env`` is
set to the names the pod is reached by: the Service's, and ``localhost`` for ``kubectl
port-forward`` and for the probes, which send it as their ``Host``.
"""

from __future__ import annotations

import re
from typing import Any

from contribkit.core.config import ProjectConfig
from contribkit.core.errors import UsageError

#: RFC 1123 label: what Kubernetes requires of namespaces and of Service names.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
#: ``[registry[:port]/]path[:tag][@digest]``, as the OCI distribution spec allows.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE = re.compile(
    rf"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?"
)
SECRET_KEY = "url"
TOKEN_KEY = "token"
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "512Mi"},
}
LOCALHOST = {"name": "Host", "value": "localhost"}
#: Any non-root id works; a fixed one keeps files in mounted volumes readable across restarts.
RUN_AS = 10001


def check_label(value: str, what: str) -> str:
    if len(value) > 63 or not DNS_LABEL.fullmatch(value):
        raise UsageError(
            f"{what} {value!r} is not a valid DNS-1123 label: use at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit."
        )
    return value


def check_image(image: str) -> str:
    if not IMAGE.fullmatch(image):
        raise UsageError(
            f"image {image!r} is not a valid image reference: use [registry/]name[:tag], "
            "e.g. 'ghcr.io/acme/app:dev', without spaces or uppercase letters in the name."
        )
    return image


def project_name(config: ProjectConfig) -> str:
    return config.require("name")


def secret_name(config: ProjectConfig) -> str:
    return f"{project_name(config)}-dev-database"


def token_secret_name(config: ProjectConfig) -> str:
    return f"{project_name(config)}-dev-api-token"


def service_host_names(service: str, namespace: str | None) -> list[str]:
    """What a client in the cluster (or a port-forward) puts in ``Host`` to reach ``service``."""
    names = [service]
    if namespace is not None:
        svc = f"{service}.{namespace}.svc"
        names += [f"{service}.{namespace}", svc, f"{svc}.cluster.local"]
    return [*names, "localhost", "127.0.0.1"]


#: Every container: no privileges, a read-only root (with a writable /tmp volume).
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def manifest_objects(
    config: ProjectConfig, *, image: str | None = None, namespace: str | None = None
) -> list[dict[str, Any]]:
    """The Deployment and the Service, as Kubernetes objects."""
    name = project_name(config)
    deployment = check_label(f"{name}-dev", "name")
    metadata: dict[str, Any] = {"name": deployment}
    if namespace is not None:
        metadata["namespace"] = check_label(namespace, "namespace")
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": deployment}
    metadata["labels"] = labels
    pod = pod_spec(
        config, check_image(image or f"{name}:dev"), service_host_names(deployment, namespace)
    )
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata,
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {
                "type": "ClusterIP",
                "selector": labels,
                "ports": [{"name": "http", "port": config.api_port, "targetPort": "http"}],
            },
        },
    ]


def pod_spec(config: ProjectConfig, image: str, host_names: list[str]) -> dict[str, Any]:
    """The API container, after the ``upgrade`` command's when one is configured."""
    port = config.api_port
    serve = ["python", "-m", "uvicorn", config.require("app"), "--factory"]
    api = container(config, "api", image, [*serve, "--host", "0.0.0.0", "--port", str(port)])
    api["ports"] = [{"name": "http", "containerPort": port}]
    if config.api_token_env:
        secret = {"secretKeyRef": {"name": token_secret_name(config), "key": TOKEN_KEY}}
        api["env"].append({"name": config.api_token_env, "valueFrom": secret})
    if config.allowed_hosts_env:
        api["env"].append({"name": config.allowed_hosts_env, "value": ",".join(host_names)})
    # The kubelet's Host is the pod's IP, which no allowed-hosts list can know in advance.
    probe = {"path": config.health_path, "port": "http", "httpHeaders": [LOCALHOST]}
    api["readinessProbe"] = {
        "httpGet": probe,
        "initialDelaySeconds": 2,
        "periodSeconds": 5,
        "failureThreshold": 3,
    }
    # Restart a server that stopped answering (a hung event loop), not one that is merely slow.
    api["livenessProbe"] = {
        "httpGet": probe,
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }
    # The app never calls the Kubernetes API: its pod gets no credentials for it.
    pod: dict[str, Any] = {"automountServiceAccountToken": False}
    if config.upgrade:  # migrate before the API starts, with the same image and secret
        pod["initContainers"] = [container(config, "upgrade-database", image, list(config.upgrade))]
    pod["securityContext"] = POD_SECURITY
    pod["containers"] = [api]
    pod["volumes"] = [{"name": "tmp", "emptyDir": {}}]  # writable /tmp on a read-only root
    return pod


def container(config: ProjectConfig, name: str, image: str, command: list[str]) -> dict[str, Any]:
    """A container running ``command`` with the database URL from the Secret."""
    secret = {"secretKeyRef": {"name": secret_name(config), "key": SECRET_KEY}}
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "env": [{"name": config.database_url_env, "valueFrom": secret}],
        "resources": RESOURCES,
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def render(config: ProjectConfig, *, image: str | None = None, namespace: str | None = None) -> str:
    """The manifest as YAML for ``kubectl apply -f -``, with how to create its Secret first."""
    import yaml

    objects = manifest_objects(config, image=image, namespace=namespace)
    deployment = objects[0]["metadata"]["name"]
    in_namespace = f" -n {namespace}" if namespace else ""
    header = (
        f"# {deployment}: a development deployment of the API. Create its secrets first:\n"
        f"#   kubectl{in_namespace} create secret generic {secret_name(config)} "
        f"--from-literal={SECRET_KEY}='<database URL>'\n"
    )
    if config.api_token_env:
        header += (
            f"#   kubectl{in_namespace} create secret generic {token_secret_name(config)} "
            f'--from-literal={TOKEN_KEY}="$(openssl rand -hex 32)"\n'
        )

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # shared dicts (labels, env) written out in full: easier to read

    documents = yaml.dump_all(objects, Dumper=Dumper, sort_keys=False)
    return header + "---\n" + documents
