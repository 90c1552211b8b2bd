"""Fixtures for the end-to-end suite: a real cluster (kind), a real Kafka (Strimzi).

Run by ``make e2e`` (tests/e2e/run.sh), which deploys manifests/ through tests/e2e/overlay
and sets ``KCR_E2E=1``, ``KUBECONFIG`` and ``KCR_KAFKA_BOOTSTRAP``. Everywhere else every
test here is skipped with that reason.
"""

import os
import uuid
from pathlib import Path

import pytest

from .cluster import Cluster, Kafka

SKIP_REASON = "end-to-end tests need a kind cluster with Kafka: run `make e2e` (sets KCR_E2E=1)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("KCR_E2E") == "1":
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    kubeconfig = os.environ.get("KUBECONFIG")
    assert kubeconfig, "KUBECONFIG names the kind cluster's kubeconfig (tests/e2e/run.sh sets it)"
    return Cluster(kubeconfig, tmp_path_factory.mktemp("kubeconfigs"))


@pytest.fixture
def name() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def kafka() -> Kafka:
    bootstrap = os.environ.get("KCR_KAFKA_BOOTSTRAP")
    assert bootstrap, "KCR_KAFKA_BOOTSTRAP reaches Kafka from the host (tests/e2e/run.sh sets it)"
    return Kafka(bootstrap)
