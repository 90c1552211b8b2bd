"""Credentials for the Kubernetes API: a kubeconfig, the pod's service account, or both tried.

kopf logs in through :func:`connection`; kcr's own client logs in through the same
``ConnectionInfo`` (:func:`credentials`), so both always talk to the same API server as the
same identity.
"""

import os
from pathlib import Path

import kopf

from kcr.kube.config import (
    LOADER_ERRORS,
    Credentials,
    NotInClusterError,
    load_in_cluster,
    load_kubeconfig,
    loader_reason,
)


class LoginError(RuntimeError):
    """No usable credentials: the message says which sources were tried."""


def connection(
    kubeconfig: Path | None = None, in_cluster: bool | None = None
) -> kopf.ConnectionInfo:
    path = str(kubeconfig) if kubeconfig else None
    try:
        if in_cluster is True:
            found = load_in_cluster()
        elif in_cluster is False or kubeconfig is not None:
            found = load_kubeconfig(path)
        else:
            found = _load_any()
    except (*LOADER_ERRORS, NotInClusterError) as error:
        where = f"kubeconfig {kubeconfig}" if kubeconfig else "in-cluster or ~/.kube/config"
        raise LoginError(
            f"cannot log in to Kubernetes from {where}: {loader_reason(error)}"
        ) from error
    return connection_info(found)


def _load_any() -> Credentials:
    try:
        return load_in_cluster()
    except NotInClusterError:
        return load_kubeconfig(None)


def connection_info(found: Credentials) -> kopf.ConnectionInfo:
    scheme, token = None, None
    if found.authorization:
        parts = found.authorization.split(" ", 1)
        scheme, token = (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    return kopf.ConnectionInfo(
        server=found.server,
        ca_path=found.ca_file,
        ca_data=found.ca_data,
        insecure=found.insecure,
        username=found.username,
        password=found.password,
        scheme=scheme,
        token=token,
        certificate_path=found.cert_file,
        private_key_path=found.key_file,
    )


def credentials(info: kopf.ConnectionInfo) -> Credentials:
    """What kopf was given, for kcr's own client."""
    authorization = f"{info.scheme or 'Bearer'} {info.token}" if info.token else None
    ca_data = info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data
    return Credentials(
        server=info.server,
        ca_file=_path(info.ca_path),
        ca_data=ca_data,
        insecure=bool(info.insecure),
        cert_file=_path(info.certificate_path),
        key_file=_path(info.private_key_path),
        authorization=authorization,
        username=info.username,
        password=info.password,
    )


def _path(path: "str | bytes | os.PathLike[str] | os.PathLike[bytes] | None") -> str | None:
    return None if path is None else os.fsdecode(path)
