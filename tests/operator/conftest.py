"""The real operator, in-process, against the kmock Kubernetes emulator over HTTP, with the
Kafka fake. Every server binds 127.0.0.1 on a free port and is stopped by the fixture.

The emulator runs in its own thread and event loop: kopf treats every task created in its
loop after start as its own, and would wait for the emulator's watch streams on exit.
"""

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from operator_harness import NAMESPACE, Harness, KeptOpenKafka, Kubectl

from kcr.embedded.kube_emulator import EmulatorThread
from kcr.kafka.fake import FakeCluster


@pytest.fixture
def fake_cluster() -> FakeCluster:
    return FakeCluster()


@pytest_asyncio.fixture
async def harness(fake_cluster: FakeCluster) -> AsyncIterator[Harness]:
    with EmulatorThread(namespaces=(NAMESPACE,)) as emulator:
        kube = emulator.kube
        assert kube is not None
        async with httpx.AsyncClient(base_url=kube.url, timeout=10) as client:
            kubectl = Kubectl(client)
            await kubectl.apply_cluster()
            harness = Harness(kube, KeptOpenKafka(fake_cluster), kubectl)
            try:
                yield harness
            finally:
                await harness.stop_all()
