"""A Kubernetes API for the kubectl plugin's tests: the kmock emulator over real HTTP, plus
what the plugin relies on from a real API server.

On top of :class:`kcr.embedded.kube_emulator.KubeEmulator` it authenticates bearer tokens
(``user:<name>``), answers SelfSubjectReview, refuses a patch whose ``resourceVersion`` is
stale (409), and runs the kcr-approvals admission policy on KafkaChangeRequests, so a
denial reads as the API server would write it.
"""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import yaml

from kcr.embedded.kube_emulator import KubeEmulator, declare_core, declare_crd, kcr_crds

from . import admission_policy

REQUESTS = "kcr.dev/v1alpha1/kafkachangerequests"
START_SECONDS = 30.0


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ("system:authenticated",)

    @property
    def token(self) -> str:
        return f"user:{self.name}"


class ApiServer(KubeEmulator):  # type: ignore[misc]
    """The emulator with authentication, optimistic concurrency and admission."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.users: dict[str, User] = {}
        self.self_review = True
        self.before_patch: list[Callable[[], None]] = []

    async def _handle(self, request: Any) -> Any:
        resource = request.resource
        if resource is not None and resource.plural == "selfsubjectreviews":
            return self._self_review(request)
        admitted = (kmock.action.CREATE, kmock.action.UPDATE)
        if (
            resource is not None
            and resource.plural == "kafkachangerequests"
            and request.subresource is None
            and request.action in admitted
        ):
            self._admit(request)
        return await super()._handle(request)

    def _user(self, request: Any) -> User:
        header = request.headers.get("Authorization", "")
        user = self.users.get(header.removeprefix("Bearer ").strip())
        if user is None:
            raise kmock.KubernetesError(status=401, reason="Unauthorized", message="Unauthorized")
        return user

    def _self_review(self, request: Any) -> aiohttp.web.Response:
        if not self.self_review:
            raise kmock.KubernetesNotFoundError()
        user = self._user(request)
        return aiohttp.web.json_response(
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "SelfSubjectReview",
                "metadata": {},
                "status": {"userInfo": {"username": user.name, "groups": list(user.groups)}},
            },
            status=201,
        )

    def stored(self, namespace: str, name: str) -> dict[str, Any] | None:
        key = (kmock.resource(REQUESTS), namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return dict(self.objects[key].raw)

    def _admit(self, request: Any) -> None:
        user = self._user(request)
        data = request.data if isinstance(request.data, dict) else {}
        if request.action == kmock.action.CREATE:
            operation, old, new = "CREATE", None, data
        else:
            for hook in self.before_patch:
                hook()
            self.before_patch.clear()
            operation = "UPDATE"
            old = self.stored(request.namespace, request.name)
            if old is None:
                raise kmock.KubernetesObjectNotFoundError()
            wanted = (data.get("metadata") or {}).get("resourceVersion")
            current = old["metadata"].get("resourceVersion")
            if wanted and wanted != current:
                raise kmock.KubernetesError(
                    status=409,
                    reason="Conflict",
                    message=f"Operation cannot be fulfilled on kafkachangerequests.kcr.dev "
                    f'"{request.name}": the object has been modified; please apply your '
                    "changes to the latest version and try again",
                )
            new = merge_patch(old, data)
        denied = admission_policy.denials(
            operation=operation, user=user.name, groups=list(user.groups), obj=new, old=old
        )
        if denied:
            raise kmock.KubernetesError(
                status=403,
                reason="Forbidden",
                message="kafkachangerequests.kcr.dev is forbidden: ValidatingAdmissionPolicy "
                "'kcr-approvals' with binding 'kcr-approvals' denied request: "
                + denied[min(denied)],
            )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class RunningApi:
    server: ApiServer
    url: str
    directory: Path
    kubeconfigs: dict[str, Path] = field(default_factory=dict)

    def add_user(self, user: User, namespace: str = "kafka-ops") -> Path:
        """A kubeconfig that authenticates as ``user``, with ``namespace`` as its default."""
        self.server.users[user.token] = user
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kcr", "cluster": {"server": self.url}}],
            "users": [{"name": user.name, "user": {"token": user.token}}],
            "contexts": [
                {
                    "name": user.name,
                    "context": {"cluster": "kcr", "user": user.name, "namespace": namespace},
                }
            ],
            "current-context": user.name,
        }
        path = self.directory / f"{user.name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        self.kubeconfigs[user.name] = path
        return path

    def put(self, document: dict[str, Any]) -> None:
        """Store an object as the operator left it (status included), bypassing admission."""
        meta = document["metadata"]
        meta.setdefault("resourceVersion", "1")
        meta.setdefault("creationTimestamp", "2026-11-25T08:00:00Z")
        self.server.objects[kmock.resource(REQUESTS), meta["namespace"], meta["name"]] = document


@contextmanager
def running_api(directory: Path) -> Iterator[RunningApi]:
    """The API server on a free 127.0.0.1 port in a thread of its own; stopped on exit."""
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        server = ApiServer()
        declare_core(server)
        for crd in kcr_crds():
            declare_crd(server, crd)
        stop = asyncio.Event()
        holder["stop"] = stop
        holder["loop"] = asyncio.get_running_loop()
        async with server, kmock.Server(server, host="127.0.0.1") as http:
            holder["api"] = RunningApi(server, str(http.url).rstrip("/"), directory)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(START_SECONDS), "the API server did not start"
    try:
        yield holder["api"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(START_SECONDS)
        assert not thread.is_alive(), "the API server did not stop"
