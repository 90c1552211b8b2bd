"""Which Kubernetes workloads touch a topic or group, and when they were last rolled out.

Workloads declare what they touch with labels: ``kcr.dev/consumer-group=<group>`` and
``kcr.dev/topics=<topic>`` (for several topics: the label with any value plus the
annotation ``kcr.dev/topics`` listing them, comma-separated). A Deployment's rollouts are
its ReplicaSets, ordered by ``deployment.kubernetes.io/revision``, as ``kubectl rollout
history`` shows them. Pure: the tools read the objects, this module interprets them.
"""

import re
from datetime import datetime
from typing import Any

from pydantic import Field

from kcr.model.base import KubeModel

TOPICS_LABEL = "kcr.dev/topics"
REVISION = "deployment.kubernetes.io/revision"
MAX_ROLLOUTS = 10

_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")


class DeploymentRollout(KubeModel):
    revision: int
    at: datetime | None = Field(default=None, description="When this revision was created")
    images: list[str] = Field(default_factory=list)
    previous_images: list[str] = Field(default_factory=list)
    changed_images: list[str] = Field(
        default_factory=list, description="Images that differ from the previous revision"
    )


class Workload(KubeModel):
    namespace: str
    name: str
    matched_by: str = Field(description="The label (or ownership entry) that names it")
    replicas: int = 0
    ready_replicas: int = 0
    images: list[str] = Field(default_factory=list)
    rollouts: list[DeploymentRollout] = Field(default_factory=list, description="Newest first")


def label_value(value: str) -> str | None:
    """``value`` when Kubernetes accepts it as a label value, else None (never matches)."""
    return value if _LABEL_VALUE.fullmatch(value) else None


def touches_topic(deployment: dict[str, Any], topic: str) -> bool:
    meta = deployment.get("metadata") or {}
    if (meta.get("labels") or {}).get(TOPICS_LABEL) == topic:
        return True
    listed = (meta.get("annotations") or {}).get(TOPICS_LABEL, "")
    return topic in {t.strip() for t in listed.split(",") if t.strip()}


def workload_of(
    deployment: dict[str, Any], replica_sets: list[dict[str, Any]], matched_by: str
) -> Workload:
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    return Workload(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        matched_by=matched_by,
        replicas=int(spec.get("replicas") or 0),
        ready_replicas=int(status.get("readyReplicas") or 0),
        images=_images(spec),
        rollouts=rollouts_of(deployment, replica_sets),
    )


def rollouts_of(
    deployment: dict[str, Any], replica_sets: list[dict[str, Any]]
) -> list[DeploymentRollout]:
    meta = deployment.get("metadata") or {}
    owned = [rs for rs in replica_sets if _owned_by(rs, meta)]
    revisions = sorted(
        (r for r in (_revision(rs) for rs in owned) if r is not None), key=lambda r: r[0]
    )
    if not revisions:
        return _from_deployment(deployment)
    rollouts: list[DeploymentRollout] = []
    previous: list[str] = []
    for number, at, images in revisions:
        changed = sorted(set(images) - set(previous)) if previous else []
        rollouts.append(
            DeploymentRollout(
                revision=number,
                at=at,
                images=images,
                previous_images=previous,
                changed_images=changed,
            )
        )
        previous = images
    return list(reversed(rollouts))[:MAX_ROLLOUTS]


def _owned_by(replica_set: dict[str, Any], deployment_meta: dict[str, Any]) -> bool:
    rs_meta = replica_set.get("metadata") or {}
    if rs_meta.get("namespace") not in {None, deployment_meta.get("namespace")}:
        return False
    for owner in rs_meta.get("ownerReferences") or []:
        if owner.get("kind") != "Deployment":
            continue
        uid = deployment_meta.get("uid")
        if (uid and owner.get("uid") == uid) or owner.get("name") == deployment_meta.get("name"):
            return True
    return False


def _revision(replica_set: dict[str, Any]) -> tuple[int, datetime | None, list[str]] | None:
    meta = replica_set.get("metadata") or {}
    raw = (meta.get("annotations") or {}).get(REVISION)
    if raw is None or not str(raw).isdigit():
        return None
    return int(raw), _time(meta.get("creationTimestamp")), _images(replica_set.get("spec") or {})


def _from_deployment(deployment: dict[str, Any]) -> list[DeploymentRollout]:
    """Without ReplicaSets: the current revision, dated by the Progressing condition."""
    meta = deployment.get("metadata") or {}
    raw = (meta.get("annotations") or {}).get(REVISION)
    if raw is None or not str(raw).isdigit():
        return []
    conditions = (deployment.get("status") or {}).get("conditions") or []
    progressing: dict[str, Any] = next(
        (c for c in conditions if c.get("type") == "Progressing"), {}
    )
    at = _time(progressing.get("lastUpdateTime")) or _time(meta.get("creationTimestamp"))
    return [
        DeploymentRollout(revision=int(raw), at=at, images=_images(deployment.get("spec") or {}))
    ]


def _images(spec: dict[str, Any]) -> list[str]:
    pod = ((spec.get("template") or {}).get("spec")) or {}
    return [str(c.get("image", "")) for c in pod.get("containers") or [] if c.get("image")]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
