"""Every failure mode surfaces as a typed error with a sentence a person can act on."""

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future

import pytest
import pytest_asyncio
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin._acl import AclBinding as ConfluentBinding
from confluent_kafka.admin._acl import AclOperation as ConfluentOperation
from confluent_kafka.admin._acl import AclPermissionType
from confluent_kafka.admin._group import ConsumerGroupListing, ListConsumerGroupsResult
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType
from pydantic import SecretStr

from kcr.kafka import (
    AuthorizationError,
    ConflictError,
    InvalidRequestError,
    KafkaPortError,
    KafkaTimeoutError,
    NotFoundError,
    UnavailableError,
    UnsupportedByBrokerError,
)
from kcr.kafka.apiversions import fetch_api_versions
from kcr.kafka.backend import Backend
from kcr.kafka.confluent.calls import AdminCalls
from kcr.kafka.confluent.convert import from_confluent_binding
from kcr.kafka.confluent.errors import translate
from kcr.kafka.connect import open_backend, open_kafka
from kcr.kafka.credentials import Credentials
from kcr.kafka.service import KafkaService
from kcr.kafka.settings import ClientSettings
from kcr.model import KafkaClusterSpec

FAST = ClientSettings(request_timeout=2.0)


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (KafkaError.TOPIC_AUTHORIZATION_FAILED, AuthorizationError, "lacks the ACL"),
        (KafkaError.SASL_AUTHENTICATION_FAILED, AuthorizationError, "credentials were refused"),
        (KafkaError.UNKNOWN_TOPIC_OR_PART, NotFoundError, "the topic does not exist"),
        (KafkaError.INVALID_CONFIG, InvalidRequestError, "INVALID_CONFIG"),
        (KafkaError.POLICY_VIOLATION, InvalidRequestError, "POLICY_VIOLATION"),
        (KafkaError.TOPIC_ALREADY_EXISTS, ConflictError, "TOPIC_ALREADY_EXISTS"),
        (KafkaError.SECURITY_DISABLED, UnsupportedByBrokerError, "does not support"),
        (KafkaError._UNSUPPORTED_FEATURE, UnsupportedByBrokerError, "does not support"),
        (KafkaError.REQUEST_TIMED_OUT, KafkaTimeoutError, "did not answer in time"),
        (KafkaError.NOT_CONTROLLER, UnavailableError, "retry when the cluster is reachable"),
        (KafkaError.COORDINATOR_NOT_AVAILABLE, UnavailableError, "retry"),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", None),
)
def test_broker_errors_become_typed_errors(
    code: int, kind: type[KafkaPortError], words: str
) -> None:
    error = translate(KafkaError(code), "create topic orders", resource="topic", name="orders")
    assert type(error) is kind
    assert error.message.startswith("create topic orders: ")
    assert words in error.message
    assert error.code == KafkaError(code).name()
    assert error.retriable is (kind in {KafkaTimeoutError, UnavailableError})


def test_not_found_names_the_resource() -> None:
    error = translate(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART), "x", resource="topic", name="o")
    assert isinstance(error, NotFoundError)
    assert (error.resource, error.name) == ("topic", "o")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a hung broker."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture
async def opened() -> AsyncIterator[list[KafkaService | Backend]]:
    """Every client a test opens, closed after it: librdkafka threads left to interpreter
    shutdown can take the process down with them."""
    clients: list[KafkaService | Backend] = []
    yield clients
    for client in clients:
        await client.close()


@pytest.mark.asyncio
async def test_unreachable_cluster_is_unavailable_within_the_deadline(
    opened: list[KafkaService | Backend],
) -> None:
    kafka = open_kafka(f"127.0.0.1:{_closed_port()}", settings=FAST)
    opened.append(kafka)
    with pytest.raises(UnavailableError, match="no broker is reachable") as caught:
        await kafka.list_topics()
    assert caught.value.retriable


@pytest.mark.asyncio
async def test_an_offset_read_of_an_unreachable_cluster_leaves_no_client_behind(
    opened: list[KafkaService | Backend],
) -> None:
    """Committed offsets go through kafka-python, which connects when it is opened and, when
    that fails, would keep its IO thread; kcr's client stops it."""
    backend = open_backend(f"127.0.0.1:{_closed_port()}", settings=FAST)
    opened.append(backend)
    before = {t for t in threading.enumerate() if t.name.startswith("kafka-io-")}
    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(KafkaTimeoutError, match="OffsetFetch failed") as caught:
            await backend.committed(["billing"])
        assert caught.value.retriable
    assert time.monotonic() - started < 2 * FAST.deadline
    assert {t for t in threading.enumerate() if t.name.startswith("kafka-io-")} <= before


@pytest.mark.asyncio
async def test_hung_broker_times_out(
    silent_server: int, opened: list[KafkaService | Backend]
) -> None:
    kafka = open_kafka(f"127.0.0.1:{silent_server}", settings=FAST)
    opened.append(kafka)
    with pytest.raises(KafkaTimeoutError, match="no answer within 2s"):
        await kafka.cluster_overview()


@pytest.mark.asyncio
async def test_topic_operations_wait_for_the_operation_timeout(
    silent_server: int, opened: list[KafkaService | Backend]
) -> None:
    """A creation or deletion may be held by the broker for operation_timeout; a read is not."""
    settings = ClientSettings(request_timeout=1.0, operation_timeout=3.0)
    backend = open_backend(f"127.0.0.1:{silent_server}", settings=settings)
    opened.append(backend)
    waited = {}
    for name, call in [
        ("read", lambda: backend.metadata(["orders"])),
        ("create", lambda: backend.create_topic("orders", 1, 1, {})),
        ("delete", lambda: backend.delete_topic("orders")),
    ]:
        started = time.monotonic()
        with pytest.raises(KafkaPortError) as caught:
            await call()
        waited[name] = time.monotonic() - started
        assert caught.value.retriable, caught.value
    for name in ("create", "delete"):
        assert settings.operation_request_timeout - 0.5 <= waited[name], waited
        assert waited["read"] < waited[name], waited


@pytest.mark.asyncio
async def test_capability_probe_of_a_hung_broker(silent_server: int) -> None:
    with pytest.raises(UnavailableError, match="did not answer ApiVersions within 1s"):
        await fetch_api_versions("127.0.0.1", silent_server, timeout=1.0)


@pytest.mark.asyncio
@pytest.mark.kafka
@pytest.mark.slow
async def test_refused_credentials_are_an_authorization_error(
    kafka_bootstrap: str, opened: list[KafkaService | Backend]
) -> None:
    """SASL against tansu, whose listener answers SASL handshakes and refuses these."""
    if os.environ.get("KCR_KAFKA_BOOTSTRAP"):
        pytest.skip("needs tansu's SASL-answering listener; the external cluster's is unknown")
    spec = KafkaClusterSpec.model_validate(
        {
            "bootstrapServers": kafka_bootstrap,
            "sasl": {
                "mechanism": "SCRAM-SHA-512",
                "username": {"name": "kafka-user", "key": "username"},
                "password": {"name": "kafka-user", "key": "password"},
            },
        }
    )
    credentials = Credentials(sasl_username=SecretStr("nobody"), sasl_password=SecretStr("wrong"))
    kafka = open_kafka(spec, credentials, FAST)
    opened.append(kafka)
    with pytest.raises(AuthorizationError, match="refused kcr's credentials") as caught:
        await kafka.list_topics()
    assert "wrong" not in caught.value.message


@pytest.mark.asyncio
async def test_every_call_is_bounded_even_when_many_run_at_once(
    silent_server: int, opened: list[KafkaService | Backend]
) -> None:
    kafka = open_kafka(f"127.0.0.1:{silent_server}", settings=FAST)
    opened.append(kafka)
    calls = [kafka.list_topics(), kafka.list_consumer_groups(), kafka.lag_report()]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, KafkaTimeoutError) for r in results), results


@pytest.mark.asyncio
async def test_a_partial_group_listing_is_refused(
    monkeypatch: pytest.MonkeyPatch, opened: list[KafkaService | Backend]
) -> None:
    """One broker's coordinator still loading: the listing it could not give is not dropped."""
    backend = open_backend(f"127.0.0.1:{_closed_port()}", settings=FAST)
    opened.append(backend)
    assert isinstance(backend, AdminCalls)
    answered: Future[ListConsumerGroupsResult] = Future()
    answered.set_result(
        ListConsumerGroupsResult(
            valid=[ConsumerGroupListing("billing", False)],
            errors=[KafkaException(KafkaError(KafkaError.COORDINATOR_LOAD_IN_PROGRESS))],
        )
    )
    monkeypatch.setattr(backend.admin, "list_consumer_groups", lambda **_: answered)
    with pytest.raises(UnavailableError, match=r"1 broker\(s\) failed to answer") as caught:
        await backend.list_groups()
    assert caught.value.retriable


def test_an_acl_binding_kcr_cannot_hold_is_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    binding = ConfluentBinding(
        ResourceType.TOPIC,
        "orders",
        ResourcePatternType.LITERAL,
        "User:billing",
        "*",
        ConfluentOperation.UNKNOWN,
        AclPermissionType.DENY,
    )
    with caplog.at_level(logging.WARNING, logger="kcr.kafka.confluent.convert"):
        assert from_confluent_binding(binding) is None
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "User:billing" in record.getMessage()
    assert "AclOperation.UNKNOWN" in record.getMessage()


@pytest.mark.asyncio
async def test_one_lost_broker_connection_is_not_said_to_be_every_broker(
    monkeypatch: pytest.MonkeyPatch, silent_server: int, opened: list[KafkaService | Backend]
) -> None:
    """librdkafka reports each broker's failed connection; "no broker is reachable" is said
    only after it reported every broker down, and no call was answered since."""
    backend = open_backend(f"127.0.0.1:{silent_server}", settings=FAST)
    opened.append(backend)
    assert isinstance(backend, AdminCalls)
    # What librdkafka reports is told here, not left to its timing against the hung server.
    monkeypatch.setattr(backend, "_serve_callbacks", lambda: None)
    answers: list[Future[ListConsumerGroupsResult]] = []
    monkeypatch.setattr(backend.admin, "list_consumer_groups", lambda **_: answers.pop(0))
    lost = KafkaError(KafkaError._TRANSPORT, "127.0.0.1:9/3: Connect failed: Connection refused")

    answers.append(Future())
    backend._remember(KafkaError(KafkaError._ALL_BROKERS_DOWN, "3/3 brokers are down"))
    with pytest.raises(UnavailableError, match="no broker is reachable"):
        await backend.list_groups()

    answered: Future[ListConsumerGroupsResult] = Future()
    answered.set_result(ListConsumerGroupsResult(valid=[], errors=[]))
    answers.append(answered)
    assert await backend.list_groups() == []
    answers.append(Future())
    backend._remember(lost)
    with pytest.raises(UnavailableError) as caught:
        await backend.list_groups()
    assert "no broker is reachable" not in caught.value.message
    assert "a broker connection failed (127.0.0.1:9/3: Connect failed" in caught.value.message
