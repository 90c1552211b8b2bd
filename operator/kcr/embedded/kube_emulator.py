"""A local Kubernetes API for kcr: the kmock emulator on a free 127.0.0.1 port.

It serves the kcr CRDs (as ``apiextensions.k8s.io`` objects and as resources), the core
resources the operator touches (namespaces, events, Secrets, ``apps/v1`` Deployments with their
``scale`` subresource), the Leases that hold the MCP server's shared rate limits and kopf's
peering resources, so the real operator, ``kubectl``
and the MCP server's draft tools run against it unchanged. It can write a kubeconfig.

kmock stores objects as plain JSON and merges patches; the emulator here adds what
clients rely on: ``uid``, ``creationTimestamp``, a ``resourceVersion`` that grows with
every write, a ``generation`` that grows when ``spec`` changes, the namespace of the URL
(watches filter on it), and a name for ``generateName``. A failed JSON-patch ``test`` is
answered with 422, as the API server answers a stale ``resourceVersion``.
"""

import asyncio
import itertools
import threading
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import jsonpatch
import kmock
import yaml

EMULATOR_USER = "kcr-emulator"
DEFAULT_NAMESPACES = ("default",)
START_TIMEOUT_SECONDS = 30.0

_CORE_RESOURCES: dict[str, dict[str, Any]] = {
    "v1/namespaces": {"kind": "Namespace", "singular": "namespace", "namespaced": False},
    "v1/events": {"kind": "Event", "singular": "event", "namespaced": True},
    "v1/secrets": {"kind": "Secret", "singular": "secret", "namespaced": True},
    "v1/configmaps": {"kind": "ConfigMap", "singular": "configmap", "namespaced": True},
    "events.k8s.io/v1/events": {"kind": "Event", "singular": "event", "namespaced": True},
    "apps/v1/deployments": {
        "kind": "Deployment",
        "singular": "deployment",
        "namespaced": True,
        "shortnames": {"deploy"},
        "subresources": {"scale", "status"},
    },
    "apiextensions.k8s.io/v1/customresourcedefinitions": {
        "kind": "CustomResourceDefinition",
        "singular": "customresourcedefinition",
        "namespaced": False,
        "shortnames": {"crd", "crds"},
    },
    "coordination.k8s.io/v1/leases": {"kind": "Lease", "singular": "lease", "namespaced": True},
    "kopf.dev/v1/kopfpeerings": {"kind": "KopfPeering", "singular": "kopfpeering"},
    "kopf.dev/v1/clusterkopfpeerings": {
        "kind": "ClusterKopfPeering",
        "singular": "clusterkopfpeering",
        "namespaced": False,
    },
}
_VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
_CRD = "apiextensions.k8s.io/v1/customresourcedefinitions"


class KubeEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with the object metadata the API server would add.

    kmock remembers every request for test assertions and scans that list on each new
    request, so a long-running emulator (a demo, a benchmark) slows down linearly; this one
    keeps only the latest ``kept_requests``.
    """

    kept_requests = 32

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._versions = itertools.count(1)

    async def _handle(self, request: Any) -> Any:
        self._forget_old_requests()
        data = request.data
        if request.resource is not None:
            if request.action == kmock.action.CREATE and isinstance(data, dict):
                self._stamp_new(data, request.namespace)
            elif request.action == kmock.action.UPDATE and request.name is not None:
                if isinstance(data, dict):
                    self._stamp_patch(request, data)
                elif isinstance(data, list):
                    data.append(self._version_op())
        try:
            return await super()._handle(request)
        except jsonpatch.JsonPatchException as error:
            # The API server's answer to a failed ``test`` (optimistic concurrency): 422.
            conflict = kmock.KubernetesError(status=422, reason="Invalid", message=str(error))
            return await self._render_error(conflict)

    def _forget_old_requests(self) -> None:
        del self._requests[: -self.kept_requests]
        for payload in self._payloads:
            del payload._requests[: -self.kept_requests]

    def _version_op(self) -> dict[str, Any]:
        """A JSON-patch operation that moves ``resourceVersion`` on, like any other write."""
        return {
            "op": "add",
            "path": "/metadata/resourceVersion",
            "value": str(next(self._versions)),
        }

    def _stamp_new(self, data: dict[str, Any], namespace: str | None) -> None:
        meta = data.setdefault("metadata", {})
        if namespace is not None:
            meta.setdefault("namespace", namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:10]}"
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", _now())
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = str(next(self._versions))

    def _stamp_patch(self, request: Any, data: dict[str, Any]) -> None:
        meta = data.get("metadata")
        if not isinstance(meta, dict):
            meta = data["metadata"] = {}
        meta["resourceVersion"] = str(next(self._versions))
        if request.subresource is None and "spec" in data:
            key = (request.resource, request.namespace, request.name)
            generation = 1
            if key in self.objects:
                generation = int(self.objects[key].get("metadata", {}).get("generation", 1))
            meta["generation"] = generation + 1


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def declare_core(emulator: kmock.KubernetesEmulator) -> None:
    for key, info in _CORE_RESOURCES.items():
        emulator.resources[key] = kmock.ResourceInfo(
            kind=info["kind"],
            singular=info["singular"],
            namespaced=info.get("namespaced", True),
            verbs=_VERBS,
            shortnames=info.get("shortnames", set()),
            subresources=info.get("subresources", set()),
        )


def declare_crd(emulator: kmock.KubernetesEmulator, crd: dict[str, Any]) -> None:
    """Serve a CRD's kind, and keep the CRD object itself where kopf looks for it."""
    spec = crd["spec"]
    names = spec["names"]
    for version in spec["versions"]:
        emulator.resources[f"{spec['group']}/{version['name']}/{names['plural']}"] = (
            kmock.ResourceInfo(
                kind=names["kind"],
                singular=names.get("singular", names["kind"].lower()),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                verbs=_VERBS,
                shortnames=set(names.get("shortNames", [])),
                categories=set(names.get("categories", [])),
                subresources=set(version.get("subresources", {})),
            )
        )
    emulator.objects[_CRD, None, crd["metadata"]["name"]] = crd


def kcr_crds(crd_dir: Path | None = None) -> list[dict[str, Any]]:
    """The CRDs from ``crd_dir`` when given, else generated from the models."""
    if crd_dir is None:
        from kcr.crd import build_crds  # noqa: PLC0415 (pydantic schema work, only when used)

        return build_crds()
    documents: list[dict[str, Any]] = []
    for path in sorted(crd_dir.glob("*.yaml")):
        documents += [
            doc
            for doc in yaml.safe_load_all(path.read_text())
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
        ]
    if not documents:
        raise FileNotFoundError(f"no CustomResourceDefinition found in {crd_dir}/*.yaml")
    return documents


def kubeconfig(url: str, namespace: str = "default") -> dict[str, Any]:
    """A kubeconfig for the emulator: plain HTTP, a placeholder token, one context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": EMULATOR_USER, "cluster": {"server": url}}],
        "users": [{"name": EMULATOR_USER, "user": {"token": "emulator"}}],
        "contexts": [
            {
                "name": EMULATOR_USER,
                "context": {
                    "cluster": EMULATOR_USER,
                    "user": EMULATOR_USER,
                    "namespace": namespace,
                },
            }
        ],
        "current-context": EMULATOR_USER,
    }


@dataclass
class EmbeddedKube:
    """A running emulator: its URL, its in-memory objects and a kubeconfig writer."""

    emulator: KubeEmulator
    url: str
    namespaces: tuple[str, ...] = DEFAULT_NAMESPACES

    def write_kubeconfig(self, path: Path, namespace: str | None = None) -> Path:
        document = kubeconfig(self.url, namespace or self.namespaces[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        path.chmod(0o600)
        return path


@asynccontextmanager
async def running_emulator(
    *,
    crd_dir: Path | None = None,
    namespaces: Iterable[str] = DEFAULT_NAMESPACES,
    port: int | None = None,
) -> AsyncIterator[EmbeddedKube]:
    """Serve the emulator in the current event loop until the block exits."""
    emulator = KubeEmulator()
    declare_core(emulator)
    for crd in kcr_crds(crd_dir):
        declare_crd(emulator, crd)
    async with emulator, kmock.Server(emulator, host="127.0.0.1", port=port) as server:
        kube = EmbeddedKube(
            emulator=emulator,
            url=str(server.url).rstrip("/"),
            namespaces=tuple(namespaces) or DEFAULT_NAMESPACES,
        )
        yield kube


@dataclass
class EmulatorThread:
    """The emulator in a background thread with its own event loop, for synchronous callers.

    ``with EmulatorThread() as kube: ...`` starts it and waits until it serves; leaving
    the block stops the loop and joins the thread.
    """

    crd_dir: Path | None = None
    namespaces: tuple[str, ...] = DEFAULT_NAMESPACES
    port: int | None = None
    kube: EmbeddedKube | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _stop: asyncio.Event | None = field(default=None, init=False)
    _ready: threading.Event = field(default_factory=threading.Event, init=False)
    _error: BaseException | None = field(default=None, init=False)

    def start(self) -> EmbeddedKube:
        self._thread = threading.Thread(target=self._run, name="kcr-kube-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise TimeoutError(f"the Kubernetes emulator did not start in {START_TIMEOUT_SECONDS}s")
        if self._error is not None:
            raise RuntimeError(f"the Kubernetes emulator failed to start: {self._error}")
        assert self.kube is not None
        return self.kube

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_SECONDS)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with running_emulator(
                crd_dir=self.crd_dir, namespaces=self.namespaces, port=self.port
            ) as kube:
                self.kube = kube
                self._ready.set()
                await self._stop.wait()
        except (OSError, ValueError, FileNotFoundError) as error:
            self._error = error
            self._ready.set()
