"""Where drafts go: a KafkaChangeRequest in Kubernetes, or its YAML for a pull request.

Idempotent by name: the name is derived from what the change asks (cluster, namespace,
change), so drafting the same change twice finds the first request instead of making a
second. Once that request is finished (succeeded, rejected, rolled back...), the same
change drafted again is new work and gets the next name (``-r2``, ``-r3``...).
"""

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

import yaml
from pydantic import ValidationError

from kcr.kube.errors import KubeConflictError, KubeError
from kcr.mcp.kube import KubePort
from kcr.model import Change, KafkaChangeRequest, Phase
from kcr.plan import canonical_json
from kcr.policy.authority import FINISHED_PHASES

MAX_ATTEMPTS = 20
_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str, length: int) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:length].strip("-") or "x"


def request_name(cluster: str, namespace: str, change: Change, attempt: int = 0) -> str:
    """``<kind>-<target>-<hash>``: readable in ``kubectl get kcr``, unique per change."""
    intent = {
        "cluster": cluster,
        "namespace": namespace,
        "change": change.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    digest = hashlib.sha256(canonical_json(intent).encode()).hexdigest()[:10]
    kind = _slug(str(change.type), 24)
    target = _slug(change.target().split("/", 1)[-1], 20)
    suffix = f"-r{attempt + 1}" if attempt else ""
    return f"{kind}-{target}-{digest}{suffix}"


@dataclass(frozen=True)
class Submitted:
    """``created``: this call made the request; ``already_open``: an identical one was open."""

    name: str
    namespace: str
    created: bool
    already_open: bool = False
    phase: str | None = None
    requested_by: str | None = None
    yaml: str | None = None


class DraftSink(Protocol):
    kind: str

    async def submit(self, request: KafkaChangeRequest) -> Submitted:
        """Store the request (or render it); the same change twice gives the same request."""
        ...


def _with_name(request: KafkaChangeRequest, name: str) -> KafkaChangeRequest:
    return request.model_copy(
        update={"metadata": request.metadata.model_copy(update={"name": name})}
    )


def to_yaml(request: KafkaChangeRequest) -> str:
    document = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    document.pop("status", None)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


class YamlDraftSink:
    """``--drafts yaml``: the GitOps path; the YAML goes into a pull request."""

    kind = "yaml"

    async def submit(self, request: KafkaChangeRequest) -> Submitted:
        spec = request.spec
        name = request_name(spec.cluster, request.metadata.namespace or "", spec.change)
        named = _with_name(request, name)
        return Submitted(
            name=name,
            namespace=request.metadata.namespace or "",
            created=False,
            requested_by=spec.requested_by.principal,
            yaml=to_yaml(named),
        )


class KubeDraftSink:
    """Creates the KafkaChangeRequest through the Kubernetes API of the server's kubeconfig."""

    kind = "kube"

    def __init__(self, kube: KubePort) -> None:
        self._kube = kube

    async def submit(self, request: KafkaChangeRequest) -> Submitted:
        spec = request.spec
        namespace = self._kube.namespace
        for attempt in range(MAX_ATTEMPTS):
            name = request_name(spec.cluster, namespace, spec.change, attempt)
            named = _with_name(request, name)
            body = named.model_dump(mode="json", by_alias=True, exclude_none=True)
            body["metadata"]["namespace"] = namespace
            body.pop("status", None)
            try:
                await self._kube.create_change_request(body)
            except KubeConflictError:
                existing = await self._kube.get_change_request(name)
                if existing is None or not _same_change(existing, spec.change, spec.cluster):
                    continue
                phase = (existing.get("status") or {}).get("phase")
                if phase in FINISHED_PHASES:
                    continue
                requester = ((existing.get("spec") or {}).get("requestedBy") or {}).get("principal")
                return Submitted(
                    name=name,
                    namespace=namespace,
                    created=False,
                    already_open=True,
                    phase=phase or str(Phase.PENDING),
                    requested_by=requester,
                )
            return Submitted(
                name=name,
                namespace=namespace,
                created=True,
                phase=str(Phase.PENDING),
                requested_by=spec.requested_by.principal,
            )
        raise KubeError(
            f"{MAX_ATTEMPTS} finished or conflicting requests already carry this change's "
            "names; clean up old KafkaChangeRequests first"
        )


def _same_change(existing: dict[str, object], change: Change, cluster: str) -> bool:
    spec = existing.get("spec")
    if not isinstance(spec, dict) or spec.get("cluster") != cluster:
        return False
    try:
        return Change.model_validate(spec.get("change")) == change
    except ValidationError:
        return False
