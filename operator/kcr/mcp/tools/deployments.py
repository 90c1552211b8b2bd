"""``recent_deployments``: rollouts of the workloads that consume a group or use a topic."""

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from kcr.mcp.evidence import group_subject, topic_subject
from kcr.mcp.gate.calls import ToolInvalidError
from kcr.mcp.kube import KubePort
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.workloads import (
    TOPICS_LABEL,
    Workload,
    label_value,
    touches_topic,
    workload_of,
)
from kcr.model import Evidence, EvidenceKind, TimeWindow
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, TopicName
from kcr.policy.scaling import GROUP_LABEL, TEAM_LABEL

MAX_WORKLOADS = 50

Hours = Annotated[int, Field(ge=1, le=720, description="How far back to look, in hours")]


class DeploymentsResult(KubeModel):
    subject: str
    workloads: list[Workload] = Field(description="Rollouts inside the window, newest first")
    searched: list[str] = Field(description="The label selectors and ownership entries used")
    window_hours: int
    observed_at: datetime


async def recent_deployments(
    env: ToolEnv, topic: TopicName | None = None, group: GroupId | None = None, hours: Hours = 24
) -> DeploymentsResult:
    """Rollouts (time, revision, image changes) of the workloads around a topic or group."""
    if (topic is None) == (group is None):
        raise ToolInvalidError("give exactly one of topic or group")
    kube = env.kube()
    if topic is not None:
        env.require_topic(topic)
        workloads, searched = await workloads_for_topic(env, kube, topic)
        subject = f"topic/{topic}"
    else:
        assert group is not None
        env.require_group(group)
        workloads, searched = await workloads_for_group(env, kube, group)
        subject = f"group/{group}"
    since = env.now() - timedelta(hours=hours)
    windowed = [_window(w, since) for w in workloads]
    result = DeploymentsResult(
        subject=subject,
        workloads=windowed,
        searched=searched,
        window_hours=hours,
        observed_at=env.now(),
    )
    env.remember(
        {topic_subject(topic) if topic else group_subject(group or "")},
        [_evidence(w, subject, since, result.observed_at) for w in windowed if w.rollouts],
    )
    return result


def _window(workload: Workload, since: datetime) -> Workload:
    """Rollouts inside the window; the current revision is always kept, to show the image."""
    recent = [r for r in workload.rollouts if r.at is not None and r.at >= since]
    return workload.model_copy(update={"rollouts": recent or workload.rollouts[:1]})


def _evidence(workload: Workload, subject: str, since: datetime, at: datetime) -> Evidence:
    rollouts = "; ".join(
        f"revision {r.revision} at {r.at.isoformat() if r.at else 'unknown'}: {', '.join(r.images)}"
        for r in workload.rollouts
    )
    return Evidence(
        kind=EvidenceKind.DEPLOYMENT,
        source=f"kubernetes: deployments/{workload.namespace}/{workload.name}"[:256],
        query=f"recent_deployments {subject}",
        observed_value=rollouts[:4096],
        time_window=TimeWindow(start=since, end=at),
        captured_at=at,
    )


async def workloads_for_group(
    env: ToolEnv, kube: KubePort, group: str
) -> tuple[list[Workload], list[str]]:
    selectors = []
    value = label_value(group)
    if value is not None:
        selectors.append(f"{GROUP_LABEL}={value}")
    found = await _by_selectors(kube, selectors)
    if not found:
        owner = env.services.cluster.owner_of_group(group)
        found, searched = await _by_team(kube, owner.team if owner else None)
        selectors += searched
    return found[:MAX_WORKLOADS], selectors


async def workloads_for_topic(
    env: ToolEnv, kube: KubePort, topic: str
) -> tuple[list[Workload], list[str]]:
    selectors = [TOPICS_LABEL]
    deployments = [d for d in await kube.list_deployments(TOPICS_LABEL) if touches_topic(d, topic)]
    found = [await _workload(kube, d, f"{TOPICS_LABEL} names {topic}") for d in deployments]
    if not found:
        owner = env.services.cluster.owner_of_topic(topic)
        found, searched = await _by_team(kube, owner.team if owner else None)
        selectors += searched
    return found[:MAX_WORKLOADS], selectors


async def _by_selectors(kube: KubePort, selectors: list[str]) -> list[Workload]:
    found: list[Workload] = []
    for selector in selectors:
        key, _, wanted = selector.partition("=")
        for deployment in await kube.list_deployments(selector):
            labels = (deployment.get("metadata") or {}).get("labels") or {}
            if labels.get(key) == wanted:
                found.append(await _workload(kube, deployment, selector))
    return found


async def _by_team(kube: KubePort, team: str | None) -> tuple[list[Workload], list[str]]:
    value = label_value(team) if team else None
    if value is None:
        return [], []
    selector = f"{TEAM_LABEL}={value}"
    return await _by_selectors(kube, [selector]), [selector]


async def _workload(kube: KubePort, deployment: dict[str, object], matched_by: str) -> Workload:
    meta = deployment.get("metadata")
    namespace = str(meta.get("namespace", "")) if isinstance(meta, dict) else ""
    spec = deployment.get("spec")
    selector = _selector_of(spec) if isinstance(spec, dict) else ""
    replica_sets = await kube.list_replica_sets(namespace, selector) if namespace else []
    return workload_of(deployment, replica_sets, matched_by)


def _selector_of(spec: dict[str, object]) -> str:
    """The Deployment's matchLabels as a label selector, to list only its ReplicaSets."""
    selector = spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    if not isinstance(labels, dict):
        return ""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
