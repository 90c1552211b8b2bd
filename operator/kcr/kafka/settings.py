"""Deadlines and identity of kcr's Kafka client: every call is bounded by these."""

from typing import Annotated

from pydantic import Field

from kcr.model.base import KubeModel


class ClientSettings(KubeModel):
    request_timeout: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0, description="Seconds one broker request may take"
    )
    operation_timeout: Annotated[float, Field(gt=0, le=600)] = Field(
        default=30.0, description="Seconds a topic creation or deletion may take to settle"
    )
    client_id: Annotated[str, Field(min_length=1, max_length=255)] = "kcr"

    @property
    def deadline(self) -> float:
        """The hard stop around one call: the request timeout plus a margin for the client."""
        return self.request_timeout + 2.0

    @property
    def operation_request_timeout(self) -> float:
        """A topic creation, deletion or partition increase: the broker may hold its answer
        for ``operation_timeout`` while the controller applies it, then needs the usual time."""
        return self.operation_timeout + self.request_timeout

    @property
    def operation_deadline(self) -> float:
        """The hard stop around such an operation, with the same margin as ``deadline``."""
        return self.operation_request_timeout + 2.0
