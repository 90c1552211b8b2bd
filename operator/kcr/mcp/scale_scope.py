"""A drafted change may scale or restart only a Deployment that consumes its group.

The caller's scope already covers the group; the Deployment must be one of the group's
consumers by its labels (see :mod:`kcr.policy.scaling`, the rule the operator applies too),
so a tenant cannot scale or restart another team's workload through its own change.
"""

from typing import Any

from kcr.mcp.gate.calls import ToolDeniedError
from kcr.mcp.kube import KubePort
from kcr.mcp.workloads import label_value
from kcr.model import Change, Ownership
from kcr.policy.ownership import owner_of_group
from kcr.policy.scaling import GROUP_LABEL, TEAM_LABEL


async def require_scalable(
    kube: KubePort | None, change: Change, owners: tuple[Ownership, ...]
) -> None:
    kind, member = change.kind, change.member
    ref = kind.deployment(member)
    if ref is None:
        return
    if kube is None:
        raise ToolDeniedError(
            f"{kind.name} names Deployment {ref.namespace}/{ref.name}: this server has no "
            "Kubernetes API to check that the Deployment consumes the group; start kcr mcp "
            "with --kubeconfig, or draft the change without the Deployment"
        )
    labels = None
    selectors = [s for group in kind.consumer_groups(member) for s in _selectors(group, owners)]
    for selector in selectors:
        key, _, wanted = selector.partition("=")
        for deployment in await kube.list_deployments(selector):
            meta: dict[str, Any] = deployment.get("metadata") or {}
            found = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            named = (meta.get("namespace"), meta.get("name")) == (ref.namespace, ref.name)
            if named and found.get(key) == wanted:
                labels = found
    problem = kind.deployment_problem(member, labels, list(owners))
    if problem is not None:
        raise ToolDeniedError(problem)


def _selectors(group: str, owners: tuple[Ownership, ...]) -> list[str]:
    """Label selectors that find every Deployment the rule could accept."""
    selectors = []
    if (value := label_value(group)) is not None:
        selectors.append(f"{GROUP_LABEL}={value}")
    owner = owner_of_group(owners, group)
    if owner is not None and (team := label_value(owner.team)) is not None:
        selectors.append(f"{TEAM_LABEL}={team}")
    return selectors
