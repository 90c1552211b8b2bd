"""ACL failure: a producer the authorizer refuses; after the approved grant it succeeds."""

import asyncio

from kcr import kinds
from kcr.kafka.clients import produce_once
from kcr.lab.context import LabContext
from kcr.lab.scenario import Expectation, Need, ReadBack, Scenario, Ticket, register
from kcr.model import Risk


@register
class AclFailure(Scenario):
    name = "acl-failure"
    title = "ACL failure: a producer refused by the authorizer"
    expectation = Expectation(
        cause="AccessDenied", proposal="AlterAcls", risk=Risk.LOW, irreversible=False
    )
    needs = frozenset({Need.CLIENT_USER})

    async def build(self, lab: LabContext) -> Ticket:
        assert lab.kafka.client_settings is not None
        assert lab.kafka.client_principal
        self.topic = await lab.create_topic("invoices")
        self.before = await asyncio.to_thread(produce_once, lab.kafka.client_settings, self.topic)
        if self.before is None:
            raise RuntimeError(f"the authorizer admitted {lab.kafka.client_principal} already")
        lab.narrator.done(f"{lab.kafka.client_principal} producing to {self.topic}: {self.before}")
        return Ticket(
            text=f"the billing producer ({lab.kafka.client_principal}) fails to write to "
            f"{self.topic} with {self.before}",
            topic=self.topic,
            principal=lab.kafka.client_principal,
            operation="Write",
        )

    async def read_back(self, lab: LabContext, drafted: bool) -> ReadBack:
        assert lab.kafka.client_settings is not None
        read_back = ReadBack()
        read_back.add(
            "refused before", self.before == "TOPIC_AUTHORIZATION_FAILED", f"{self.before}"
        )
        after = await asyncio.to_thread(produce_once, lab.kafka.client_settings, self.topic)
        read_back.add(
            "same producer succeeds after", after is None, "delivered" if after is None else after
        )
        return read_back

    async def cleanup(self, lab: LabContext) -> None:
        from kcr.kinds.alter_acls import AlterAcls  # noqa: PLC0415
        from kcr.model import AclBinding, AclOperation, AclResourceType  # noqa: PLC0415

        assert lab.kafka.client_principal
        grant = AclBinding(
            resource_type=AclResourceType.TOPIC,
            resource_name=self.topic,
            principal=lab.kafka.client_principal,
            operation=AclOperation.WRITE,
        )
        await kinds.apply(lab.admin, AlterAcls(remove=[grant]))
