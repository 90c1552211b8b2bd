"""A coordinator or leader that is moving is asked again; other failures are reported at once."""

import pytest
from confluent_kafka import KafkaError

from kcr.kafka import UnavailableError
from kcr.kafka.confluent.errors import translate
from kcr.kafka.confluent.moving import (
    COORDINATOR_MOVING,
    LEADER_MOVING,
    MAX_ATTEMPTS,
    while_moving,
)
from kcr.kafka.settings import ClientSettings

pytestmark = pytest.mark.asyncio


class Coordinator:
    """Answers with ``failures`` errors of ``code`` before it answers the call."""

    def __init__(self, code: str, failures: int) -> None:
        self.code = code
        self.failures = failures
        self.asked = 0

    async def describe(self, group: str) -> str:
        self.asked += 1
        if self.asked <= self.failures:
            message = f"describe consumer group {group}: ({self.code})"
            raise UnavailableError(message, code=self.code)
        return f"{group} described"


@pytest.mark.parametrize(
    ("codes", "code", "failures", "answered", "asked"),
    [
        (COORDINATOR_MOVING, "NOT_COORDINATOR", 2, True, 3),
        (COORDINATOR_MOVING, "COORDINATOR_LOAD_IN_PROGRESS", 1, True, 2),
        (COORDINATOR_MOVING, "COORDINATOR_NOT_AVAILABLE", 3, True, 4),
        (COORDINATOR_MOVING, "NOT_COORDINATOR", MAX_ATTEMPTS, False, MAX_ATTEMPTS),
        (COORDINATOR_MOVING, "LEADER_NOT_AVAILABLE", 1, False, 1),
        (LEADER_MOVING, "NOT_LEADER_FOR_PARTITION", 2, True, 3),
        (LEADER_MOVING, "UNKNOWN_LEADER_EPOCH", 2, True, 3),
        (LEADER_MOVING, "NOT_COORDINATOR", 1, False, 1),
    ],
    ids=[
        "not-coordinator-settles",
        "loading-settles",
        "unavailable-settles",
        "never-settles-bounded",
        "other-errors-not-retried",
        "new-leader-settles",
        "leader-epoch-settles",
        "only-the-named-codes",
    ],
)
async def test_moving_coordinators_and_leaders_are_asked_again_within_bounds(
    codes: frozenset[str], code: str, failures: int, answered: bool, asked: int
) -> None:
    coordinator = Coordinator(code, failures)
    settings = ClientSettings(request_timeout=30)
    if answered:
        assert await while_moving(settings, codes, coordinator.describe, "g") == "g described"
    else:
        with pytest.raises(UnavailableError, match=rf"describe consumer group g: \({code}\)"):
            await while_moving(settings, codes, coordinator.describe, "g")
    assert coordinator.asked == asked


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.FENCED_LEADER_EPOCH,
    ],
    ids=["not-leader", "leader-not-available", "unknown-leader-epoch", "fenced-leader-epoch"],
)
async def test_a_moving_leader_is_a_retriable_unavailability(code: int) -> None:
    """What librdkafka returns while a leader moves becomes an error the retry recognises."""
    error = translate(KafkaError(code), "list latest offset of orders/0")
    assert isinstance(error, UnavailableError)
    assert error.retriable
    assert error.code in LEADER_MOVING
