"""The change kinds: one module each, registered here in the order reviewers meet them.

Importing this package makes every built-in kind known to validation, review, planning
and execution. A kind defined elsewhere registers itself with :func:`register`.
"""

from kcr.kinds import (
    alter_acls,
    alter_client_quotas,
    alter_topic_config,
    await_reassignment,
    await_rejoin,
    create_topic,
    delete_topic,
    elect_leaders,
    increase_partitions,
    reassign_partitions,
    replication_throttle,
    reset_offsets,
    restart_workload,
    scale_deployment,
)
from kcr.kinds.base import KindBase, StepPorts, StepRefusedError, Workloads
from kcr.kinds.registry import apply, kind_of, register, take_snapshot

BUILT_IN = (
    create_topic.KIND,
    increase_partitions.KIND,
    alter_topic_config.KIND,
    reset_offsets.KIND,
    alter_acls.KIND,
    delete_topic.KIND,
    scale_deployment.KIND,
    reassign_partitions.KIND,
    elect_leaders.KIND,
    alter_client_quotas.KIND,
    restart_workload.KIND,
    replication_throttle.KIND,
    await_reassignment.KIND,
    await_rejoin.KIND,
)
for _kind in BUILT_IN:
    register(_kind)

__all__ = [
    "BUILT_IN",
    "KindBase",
    "StepPorts",
    "StepRefusedError",
    "Workloads",
    "apply",
    "kind_of",
    "register",
    "take_snapshot",
]
