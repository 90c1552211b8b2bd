"""Which Deployment a change may scale or restart: only one that consumes its group.

Scaling or restarting is a write to a workload, so it needs the same scope as the change
to the group. A Deployment says which group it consumes with the label
``kcr.dev/consumer-group``; one without that label counts when it carries ``kcr.dev/team``
of the team the KafkaCluster's ownership map names for the group. Any other Deployment is
refused, whoever drafts it.
"""

from collections.abc import Iterable, Mapping

from kcr.model import DeploymentRef, Ownership
from kcr.policy.ownership import owner_of_group

GROUP_LABEL = "kcr.dev/consumer-group"
TEAM_LABEL = "kcr.dev/team"
FIELD = "spec.change.resetConsumerGroupOffsets.scaleDeployment"


def scale_target_problem(
    group: str,
    ref: DeploymentRef | None,
    labels: Mapping[str, str] | None,
    owners: Iterable[Ownership],
) -> str | None:
    """Why the reset may not scale its Deployment, naming it and the rule; None when it may.

    ``labels`` are the Deployment's labels, None when no such Deployment was found.
    """
    may = f"an offset reset of group {group} may only scale"
    return consumer_workload_problem(group, ref, labels, owners, field=FIELD, may=may)


def consumer_workload_problem(
    group: str,
    ref: DeploymentRef | None,
    labels: Mapping[str, str] | None,
    owners: Iterable[Ownership],
    *,
    field: str,
    may: str,
) -> str | None:
    """Why a change of group ``group`` may not touch the Deployment at ``field``; ``may``
    starts the rule's sentence (``an offset reset of group g may only scale``)."""
    if ref is None:
        return None
    where = f"{field}: Deployment {ref.namespace}/{ref.name}"
    owner = owner_of_group(owners, group)
    rule = f"{may} a Deployment labelled {GROUP_LABEL}={group}" + (
        f", or one labelled {TEAM_LABEL}={owner.team} without a {GROUP_LABEL} label"
        if owner
        else ""
    )
    if labels is None:
        return f"{where} was not found among the Deployments that consume group {group}: {rule}"
    consumed = labels.get(GROUP_LABEL)
    if consumed == group:
        return None
    if consumed is not None:
        return f"{where} consumes group {consumed}, not {group}: {rule}"
    if owner is not None and labels.get(TEAM_LABEL) == owner.team:
        return None
    return f"{where} is not labelled as a consumer of group {group}: {rule}"
