"""kcr.dev custom objects through the official client, and its errors made readable.

The generated ``CustomObjectsApi`` wants the group, version and plural on every call and
returns untyped JSON; this keeps those details in one place. Errors stay raw here so each
caller says what it was doing with :func:`explained`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from kcr.kube.errors import explain, unreachable
from kcr.kube.resources import GROUP, VERSION, ApiResource, KubeObject


@contextmanager
def explained(doing: str, server: str = "") -> Iterator[None]:
    """Turn an API error inside the block into a ``KubeError`` that says ``doing``; a
    server that does not answer at all is named, with the network's reason."""
    try:
        yield
    except ApiException as error:
        raise explain(error, doing) from error
    except (HTTPError, OSError) as error:
        raise unreachable(error, server, doing) from error


class CustomObjects:
    """Get, list, create and merge-patch kcr.dev objects, each call bounded by ``timeout``."""

    def __init__(self, api: Any, *, timeout: float | None = None) -> None:
        self._api: Any = client.CustomObjectsApi(api)
        self._bounds: dict[str, float] = {} if timeout is None else {"_request_timeout": timeout}

    def get(self, resource: ApiResource, namespace: str, name: str) -> KubeObject:
        return cast(
            KubeObject,
            self._api.get_namespaced_custom_object(
                GROUP, VERSION, namespace, resource.plural, name, **self._bounds
            ),
        )

    def list(self, resource: ApiResource, namespace: str | None) -> list[KubeObject]:
        """The items in ``namespace``, or in every namespace when it is None."""
        if namespace is None:
            found = self._api.list_cluster_custom_object(
                GROUP, VERSION, resource.plural, **self._bounds
            )
        else:
            found = self._api.list_namespaced_custom_object(
                GROUP, VERSION, namespace, resource.plural, **self._bounds
            )
        return cast(list[KubeObject], (found or {}).get("items", []))

    def create(self, resource: ApiResource, namespace: str, body: KubeObject) -> KubeObject:
        return cast(
            KubeObject,
            self._api.create_namespaced_custom_object(
                GROUP, VERSION, namespace, resource.plural, body, **self._bounds
            ),
        )

    def patch(
        self, resource: ApiResource, namespace: str, name: str, body: KubeObject
    ) -> KubeObject:
        """A JSON merge patch (the client's default for a dict body)."""
        return cast(
            KubeObject,
            self._api.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, resource.plural, name, body, **self._bounds
            ),
        )
