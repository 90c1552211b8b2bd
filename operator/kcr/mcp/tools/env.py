"""What a tool body gets: the services, the checked caller, and scope guards that refuse."""

from dataclasses import dataclass
from datetime import datetime

from kcr.mcp.gate.calls import CallContext, ToolDeniedError, ToolFailedError
from kcr.mcp.gate.identity import Caller, Scope
from kcr.mcp.kube import KubePort
from kcr.mcp.services import Services
from kcr.model import Evidence


@dataclass(frozen=True)
class ToolEnv:
    services: Services
    call: CallContext

    @property
    def caller(self) -> Caller:
        return self.call.caller

    @property
    def scope(self) -> Scope:
        return self.call.caller.scope

    def now(self) -> datetime:
        return self.services.clock()

    def require_topic(self, topic: str) -> str:
        if not self.scope.allows_topic(topic):
            raise ToolDeniedError(
                f"topic `{topic}` is outside your scope `{self.scope.describe_topics()}`"
            )
        return topic

    def require_group(self, group: str) -> str:
        if not self.scope.allows_group(group):
            raise ToolDeniedError(
                f"consumer group `{group}` is outside your scope `{self.scope.describe_groups()}`"
            )
        return group

    def kube(self) -> KubePort:
        if self.services.kube is None:
            raise ToolFailedError(
                "this server has no Kubernetes API configured (it was started without a "
                "kubeconfig); change requests and deployments cannot be read"
            )
        return self.services.kube

    def remember(self, subjects: set[str], evidence: list[Evidence]) -> None:
        """Keep what this caller was shown, for the evidence of a later draft."""
        self.services.ledger.record(self.caller.principal, subjects, evidence)
