"""Credentials for the Kubernetes API: a kubeconfig, the pod's service account, or both tried.

kopf logs in through :func:`connection`; kcr's own small Kubernetes client uses the same
``ConnectionInfo``, so both always talk to the same API server as the same identity.
"""

from pathlib import Path

import kopf
import kubernetes

from kcr.kube.config import LOADER_ERRORS, loader_reason


class LoginError(RuntimeError):
    """No usable credentials: the message says which sources were tried."""


def connection(
    kubeconfig: Path | None = None, in_cluster: bool | None = None
) -> kopf.ConnectionInfo:
    config = kubernetes.client.Configuration()
    try:
        if in_cluster is True:
            kubernetes.config.load_incluster_config(client_configuration=config)  # type: ignore[no-untyped-call]
        elif in_cluster is False or kubeconfig is not None:
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=str(kubeconfig) if kubeconfig else None, client_configuration=config
            )
        else:
            _load_any(config)
    except LOADER_ERRORS as error:
        where = f"kubeconfig {kubeconfig}" if kubeconfig else "in-cluster or ~/.kube/config"
        raise LoginError(
            f"cannot log in to Kubernetes from {where}: {loader_reason(error)}"
        ) from error
    return from_client_configuration(config)


def _load_any(config: kubernetes.client.Configuration) -> None:
    try:
        kubernetes.config.load_incluster_config(client_configuration=config)  # type: ignore[no-untyped-call]
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=config)  # type: ignore[no-untyped-call]


def from_client_configuration(config: kubernetes.client.Configuration) -> kopf.ConnectionInfo:
    header = config.get_api_key_with_prefix("BearerToken") or config.get_api_key_with_prefix(
        "authorization"
    )
    parts = header.split(" ", 1) if header else []
    scheme, token = (None, None)
    if len(parts) == 1:
        token = parts[0]
    elif len(parts) == 2:
        scheme, token = parts
    return kopf.ConnectionInfo(
        server=config.host,
        ca_path=config.ssl_ca_cert,
        insecure=not config.verify_ssl,
        username=config.username or None,
        password=config.password or None,
        scheme=scheme,
        token=token,
        certificate_path=config.cert_file,
        private_key_path=config.key_file,
    )
