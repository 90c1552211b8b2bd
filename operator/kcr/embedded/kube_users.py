"""The emulator as people reach it: named users, ``kubectl kcr approve`` and ``kubectl get``.

:class:`KubeEmulator` serves the operator and the MCP server; a person needs a few more
things from an API server. Who am I: ``kubectl kcr approve`` asks SelfSubjectReview, so
bearer tokens map to user names here. Lists that say their ``kind``: ``kubectl get``
refuses a list without one. Tables of the CRDs' printer columns, which ``kubectl get``
asks for. Discovery where a subresource (``kafkachangerequests/status``) carries no short
names or categories, else ``kubectl get kcr`` warns that ``kcr`` is ambiguous. Nothing is
enforced: an unknown token still reads and writes, as the operator's and the MCP
server's do.
"""

import asyncio
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aiohttp.web
import kmock
import yaml

from kcr.embedded.kube_emulator import (
    DEFAULT_NAMESPACES,
    START_TIMEOUT_SECONDS,
    KubeEmulator,
    declare_core,
    declare_crd,
    kcr_crds,
)
from kcr.embedded.kube_tables import printer_columns, table, wants_table

AUTHENTICATED = "system:authenticated"
CRDS = kmock.resource("apiextensions.k8s.io/v1/customresourcedefinitions")


class EmulatorError(RuntimeError):
    """The Kubernetes emulator did not come up; the message says why."""


class PeopleEmulator(KubeEmulator):
    """The emulator plus SelfSubjectReview by bearer token and kubectl-ready lists."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.users: dict[str, str] = {}
        """Bearer token → user name."""

    def add_user(self, name: str) -> str:
        """A new bearer token that SelfSubjectReview answers with ``name``."""
        token = f"{name}-{secrets.token_urlsafe(18)}"
        self.users[token] = name
        return token

    async def _handle(self, request: Any) -> Any:
        resource = request.resource
        if resource is not None and resource.plural == "selfsubjectreviews":
            return self._self_review(request)
        return await super()._handle(request)

    def _self_review(self, request: Any) -> aiohttp.web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        user = self.users.get(token)
        if user is None:
            raise kmock.KubernetesError(
                status=401, reason="Unauthorized", message="the bearer token names no user"
            )
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
            "metadata": {},
            "status": {"userInfo": {"username": user, "groups": [AUTHENTICATED]}},
        }
        return aiohttp.web.json_response(review, status=201)

    async def _serve_list(self, request: Any) -> Any:
        payload = await super()._serve_list(request)
        if not isinstance(payload, dict):
            return payload
        columns = self._table_columns(request)
        if columns is not None:
            return table(payload.get("items", []), columns)
        resource = request.resource
        info = self.resources.get(resource)
        if isinstance(info, kmock.ResourceInfo) and info.kind:
            group = f"{resource.group}/" if resource.group else ""
            kind = {"apiVersion": f"{group}{resource.version}", "kind": f"{info.kind}List"}
            payload = kind | payload
        return payload

    async def _serve_fetch(self, request: Any) -> Any:
        payload = await super()._serve_fetch(request)
        columns = self._table_columns(request)
        if columns is not None and isinstance(payload, dict):
            return table([payload], columns)
        return payload

    def _table_columns(self, request: Any) -> list[dict[str, Any]] | None:
        """The printer columns when the client asks for a table of a CRD's objects."""
        resource = request.resource
        if resource is None or not wants_table(request.headers.get("Accept", "")):
            return None
        key = (CRDS, None, f"{resource.plural}.{resource.group}")
        if key not in self.objects:
            return None
        return printer_columns(self.objects[key].raw, resource.version) or None

    async def _serve_version(self, request: Any) -> Any:
        payload = await super()._serve_version(request)
        for entry in payload.get("resources", []) if isinstance(payload, dict) else []:
            if "/" in entry.get("name", ""):
                entry["shortNames"] = []
                entry["categories"] = []
        return payload


def user_kubeconfig(url: str, user: str, token: str, namespace: str) -> dict[str, Any]:
    """A kubeconfig that authenticates as ``user`` (plain HTTP, as the emulator serves)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kcr-embedded", "cluster": {"server": url}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {
                "name": user,
                "context": {"cluster": "kcr-embedded", "user": user, "namespace": namespace},
            }
        ],
        "current-context": user,
    }


@dataclass
class PeopleKube:
    """The emulator running in a thread of its own, for synchronous callers.

    ``start`` returns once it serves on a free 127.0.0.1 port; ``stop`` ends its loop and
    joins the thread. Objects are reached through ``emulator`` (kmock's in-memory store).
    """

    namespaces: tuple[str, ...] = DEFAULT_NAMESPACES
    emulator: PeopleEmulator = field(default_factory=PeopleEmulator)
    url: str = ""
    _thread: threading.Thread | None = field(default=None, init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _stop: asyncio.Event | None = field(default=None, init=False)
    _ready: threading.Event = field(default_factory=threading.Event, init=False)
    _error: BaseException | None = field(default=None, init=False)

    def start(self) -> Self:
        declare_core(self.emulator)
        for crd in kcr_crds():
            declare_crd(self.emulator, crd)
        self._thread = threading.Thread(target=self._run, name="kcr-kube", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise EmulatorError(
                f"the Kubernetes emulator did not start in {START_TIMEOUT_SECONDS:.0f}s"
            )
        if self._error is not None:
            raise EmulatorError(f"the Kubernetes emulator failed to start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_SECONDS)
            self._thread = None

    def write_kubeconfig(self, path: Path, user: str, namespace: str | None = None) -> Path:
        """A kubeconfig for ``user`` with a token of its own (private to the file's owner)."""
        token = self.emulator.add_user(user)
        document = user_kubeconfig(self.url, user, token, namespace or self.namespaces[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with self.emulator, kmock.Server(self.emulator, host="127.0.0.1") as server:
                self.url = str(server.url).rstrip("/")
                self._ready.set()
                await self._stop.wait()
        except OSError as error:
            self._error = error
            self._ready.set()
