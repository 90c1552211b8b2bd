"""Change requests in the server's namespace: list them, read one; only those in scope."""

from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from kcr.mcp.gate.calls import ToolDeniedError, ToolInvalidError
from kcr.mcp.gate.identity import Scope
from kcr.mcp.paging import DEFAULT_LIMIT, Cursor, Limit, page
from kcr.mcp.scoping import outside_scope
from kcr.mcp.tools.env import ToolEnv
from kcr.mcp.withholding import (
    foreign_groups,
    groups_named,
    shown_spec,
    shown_status,
    withheld_note,
)
from kcr.model import KafkaChangeRequestSpec, KafkaChangeRequestStatus, Phase, explain
from kcr.model.base import KubeModel
from kcr.model.names import KubeName
from kcr.policy import affected_topics


def in_scope(spec: KafkaChangeRequestSpec, scope: Scope) -> bool:
    return outside_scope(spec.change, scope) is None


class RequestSummary(KubeModel):
    name: str
    phase: str
    risk: str | None = None
    change_type: str
    target: str
    requested_by: str
    approved_by: str = ""
    created: str | None = None


class RequestPage(KubeModel):
    requests: list[RequestSummary]
    total: int
    hidden: int = Field(description="Requests outside your scope or unreadable")
    next_cursor: str | None = None
    namespace: str
    observed_at: datetime


async def list_change_requests(
    env: ToolEnv,
    phase: Phase | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor | None = None,
) -> RequestPage:
    """KafkaChangeRequests in the server's namespace that touch only your scope."""
    kube = env.kube()
    items = await kube.list_change_requests()
    visible, hidden = [], 0
    for item in items:
        parsed = _parse_spec(item)
        if parsed is None or not in_scope(parsed, env.scope):
            hidden += 1
            continue
        summary = _summary(item, parsed)
        if phase is None or summary.phase == phase:
            visible.append(summary)
    visible.sort(key=lambda r: (r.created or "", r.name), reverse=True)
    chosen, following = page(visible, cursor, limit, f"list_change_requests|{phase}")
    return RequestPage(
        requests=chosen,
        total=len(visible),
        hidden=hidden,
        next_cursor=following,
        namespace=kube.namespace,
        observed_at=env.now(),
    )


def _parse_spec(item: dict[str, Any]) -> KafkaChangeRequestSpec | None:
    try:
        return KafkaChangeRequestSpec.model_validate(item.get("spec"))
    except ValidationError:
        return None


def _summary(item: dict[str, Any], spec: KafkaChangeRequestSpec) -> RequestSummary:
    meta = item.get("metadata") or {}
    status = item.get("status") or {}
    return RequestSummary(
        name=str(meta.get("name", "")),
        phase=str(status.get("phase") or Phase.PENDING),
        risk=status.get("risk"),
        change_type=str(spec.change.type),
        target=spec.change.target(),
        requested_by=spec.requested_by.principal,
        approved_by=str(status.get("approvedBy") or ""),
        created=meta.get("creationTimestamp"),
    )


class ChangeRequestDetail(KubeModel):
    name: str
    namespace: str
    spec: KafkaChangeRequestSpec
    status: KafkaChangeRequestStatus | None = None
    status_problems: list[str] = Field(
        default_factory=list, description="Why the status could not be read, if it could not"
    )
    annotations: dict[str, str] = Field(default_factory=dict, description="kcr.dev annotations")
    withheld: str | None = Field(
        default=None, description="How many consumer groups outside your scope are not named here"
    )
    observed_at: datetime


async def get_change_request(env: ToolEnv, name: KubeName) -> ChangeRequestDetail:
    """One KafkaChangeRequest: spec, status (phase, risk, plan, approvals, history)."""
    kube = env.kube()
    item = await kube.get_change_request(name)
    unseen = (
        f"no KafkaChangeRequest {name} that you may read in namespace {kube.namespace}: it does "
        "not exist, or it touches topics or groups outside your scope"
    )
    if item is None:
        raise ToolInvalidError(unseen)
    spec = _parse_spec(item)
    if spec is None or not in_scope(spec, env.scope):
        # The same answer as for a missing request, so a name cannot be probed for existence;
        # the audit record still says it was a denial.
        raise ToolDeniedError(unseen)
    status, problems = None, []
    if item.get("status"):
        try:
            status = KafkaChangeRequestStatus.model_validate(item["status"])
        except ValidationError as error:
            problems = explain(error, "status")
    meta = item.get("metadata") or {}
    annotations = {
        k: str(v) for k, v in (meta.get("annotations") or {}).items() if k.startswith("kcr.dev/")
    }
    foreign = foreign_groups(groups_named(spec, status), env.scope)
    return ChangeRequestDetail(
        name=name,
        namespace=kube.namespace,
        spec=shown_spec(spec, env.scope),
        status=shown_status(status, env.scope, foreign, affected_topics(spec.change))
        if status
        else None,
        status_problems=problems,
        annotations=annotations,
        withheld=withheld_note(len(foreign)),
        observed_at=env.now(),
    )
