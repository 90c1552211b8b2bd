"""The admin APIs librdkafka lacks or mishandles, through kafka-python: partition
reassignments (list, start, cancel), log dir sizes, client quotas and committed offsets
(librdkafka's own read crashes on a moved coordinator, see :mod:`kcr.kafka.kafkapython_offsets`).

confluent-kafka 2.16's AdminClient has none of these calls; kafka-python 3 has them or their
protocol classes (:mod:`kcr.kafka.kafkapython_admin`). Its client is blocking, so each call
runs in a worker thread under the same deadline as every other Kafka call, and its errors,
and the error codes in its answers, become the port's typed errors by the same rules as
librdkafka's. It is opened on first use with the same connection settings (SASL, TLS) as
the main client.
"""

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kafka.errors import (
    AuthorizationError as KafkaPythonAuthorization,
)
from kafka.errors import (
    BrokerResponseError,
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailedError,
)
from kafka.errors import KafkaTimeoutError as KafkaPythonTimeout
from pydantic import TypeAdapter

from kcr.kafka.confluent.errors import translate_code
from kcr.kafka.confluent.moving import COORDINATOR_MOVING, while_moving
from kcr.kafka.credentials import Credentials
from kcr.kafka.errors import (
    AuthorizationError,
    KafkaPortError,
    KafkaTimeoutError,
    UnavailableError,
    UnsupportedByBrokerError,
    raise_together,
)
from kcr.kafka.kafkapython_admin import KcrAdminClient
from kcr.kafka.kafkapython_offsets import GroupAnswer, Wanted
from kcr.kafka.lag import without_gc_pauses
from kcr.kafka.quota_model import (
    ClientQuota,
    ClientQuotaFilter,
    QuotaAlteration,
    QuotaEntityType,
    entity_label,
)
from kcr.kafka.readmodel import (
    CommittedOffset,
    GroupOffsets,
    Reassignment,
    TopicPartition,
)
from kcr.kafka.replica_model import ReplicaLogSize
from kcr.kafka.settings import ClientSettings
from kcr.model import KafkaClusterSpec

log = logging.getLogger(__name__)
T = TypeVar("T")
ENTITY_TYPES = {kind.value: kind for kind in QuotaEntityType}
MAX_IN_FLIGHT = 32
UNKNOWN_TOPIC_OR_PARTITION = 3  # a partition with no commit on a topic the broker lacks
_COMMITTED_ROWS = TypeAdapter(list[CommittedOffset])  # one validation call per group


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def admin_config(
    spec: KafkaClusterSpec,
    credentials: Credentials,
    settings: ClientSettings,
    tls: ssl.SSLContext | None,
    security_protocol: str,
) -> dict[str, Any]:
    timeout_ms = int(settings.request_timeout * 1000)
    config: dict[str, Any] = {
        "bootstrap_servers": [s.strip() for s in spec.bootstrap_servers.split(",")],
        "client_id": settings.client_id,
        "security_protocol": security_protocol,
        "request_timeout_ms": timeout_ms,
        "bootstrap_timeout_ms": timeout_ms,
        # Each offset read keeps a few requests in flight per broker; several run at once.
        "max_in_flight_requests_per_connection": MAX_IN_FLIGHT,
    }
    if tls is not None:
        config["ssl_context"] = tls
    if spec.sasl is not None:
        config |= {
            "sasl_mechanism": spec.sasl.mechanism.value,
            "sasl_plain_username": _secret(credentials.sasl_username),
            "sasl_plain_password": _secret(credentials.sasl_password),
        }
    return config


class KafkaPythonAdmin:
    """One kafka-python admin client, opened lazily, shared by the calls librdkafka lacks."""

    def __init__(
        self,
        config: dict[str, Any],
        settings: ClientSettings,
        on_request: Callable[[int], None] | None = None,
    ) -> None:
        self._config = config
        self._settings = settings
        self._on_request = on_request
        self._lock = threading.Lock()
        self._client: KcrAdminClient | None = None

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    # --- reassignments ----------------------------------------------------------------------

    async def list_reassignments(self, topics: list[str] | None = None) -> list[Reassignment]:
        found = await self._run("ListPartitionReassignments", lambda: self._list(topics))
        return sorted(found, key=lambda r: (r.topic, r.partition))

    def _list(self, topics: list[str] | None) -> list[Reassignment]:
        moving = self._open().list_partition_reassignments(timeout_ms=self._timeout_ms())
        wanted = set(topics) if topics is not None else None
        return [
            Reassignment(
                topic=tp.topic,
                partition=tp.partition,
                replicas=list(state.get("replicas", [])),
                adding=list(state.get("adding_replicas", [])),
                removing=list(state.get("removing_replicas", [])),
            )
            for tp, state in moving.items()
            if wanted is None or tp.topic in wanted
        ]

    async def alter_reassignments(self, targets: dict[TopicPartition, list[int] | None]) -> None:
        api = "AlterPartitionReassignments"
        response = await self._run(api, lambda: self._alter_reassignments(targets))
        raise_together(
            [
                translate_code(
                    p.error_code,
                    p.error_message,
                    f"move {t.name}/{p.partition_index}",
                    resource="partition",
                    name=f"{t.name}/{p.partition_index}",
                )
                for t in response.responses
                for p in t.partitions
                if p.error_code
            ]
        )

    def _alter_reassignments(self, targets: dict[TopicPartition, list[int] | None]) -> Any:
        try:
            response = self._open().alter_reassignments_of(targets, self._timeout_ms())
        except RuntimeError as error:  # kafka-python's word for "the controller moved twice"
            raise UnavailableError(f"move partitions: {error}; retry") from None
        if response.error_code:
            raise _refused(response, "move partitions")
        return response

    # --- log dirs -------------------------------------------------------------------------------

    async def log_dirs(
        self, partitions: dict[str, list[int]], brokers: list[int]
    ) -> list[ReplicaLogSize]:
        answers = await self._run(
            "DescribeLogDirs", lambda: self._open().describe_log_dirs_of(partitions, brokers)
        )
        found = []
        for broker, response in answers:
            if getattr(response, "error_code", 0):
                raise _refused(response, f"describe the log dirs of broker {broker}")
            for result in response.results:
                if result.error_code:
                    action = f"describe log dir {result.log_dir} of broker {broker}"
                    raise translate_code(result.error_code, None, action)
                found += [
                    ReplicaLogSize(
                        topic=topic.name,
                        partition=p.partition_index,
                        broker=broker,
                        log_dir=result.log_dir,
                        size=max(0, p.partition_size),
                        offset_lag=p.offset_lag,
                        future=p.is_future_key,
                    )
                    for topic in result.topics
                    for p in topic.partitions
                ]
        return sorted(found, key=lambda r: (r.topic, r.partition, r.broker, r.future))

    # --- client quotas --------------------------------------------------------------------------

    async def describe_client_quotas(self, quota_filter: ClientQuotaFilter) -> list[ClientQuota]:
        response = await self._run(
            "DescribeClientQuotas", lambda: self._open().describe_client_quotas(quota_filter)
        )
        if response.error_code:
            raise _refused(response, "describe client quotas")
        found = []
        for entry in response.entries or []:
            kinds = {e.entity_type: e.entity_name for e in entry.entity}
            if not set(kinds) <= set(ENTITY_TYPES):
                log.debug("leaving out a quota on entity types kcr does not manage: %s", kinds)
                continue
            found.append(
                ClientQuota(
                    entity={ENTITY_TYPES[k]: name for k, name in kinds.items()},
                    values={v.key: v.value for v in entry.values},
                )
            )
        return found

    async def alter_client_quotas(self, alterations: list[QuotaAlteration]) -> None:
        response = await self._run(
            "AlterClientQuotas", lambda: self._open().alter_client_quotas(alterations)
        )
        failures = []
        for entry in response.entries:
            if entry.error_code:
                label = entity_label(
                    {ENTITY_TYPES[e.entity_type]: e.entity_name for e in entry.entity}
                )
                action = f"alter the client quotas of {label}"
                failures.append(translate_code(entry.error_code, entry.error_message, action))
        raise_together(failures)

    # --- committed offsets -----------------------------------------------------------------

    async def committed(
        self, groups: list[str], partitions: list[TopicPartition] | None
    ) -> list[GroupOffsets]:
        """Every group's committed offsets; a group whose coordinator moved is asked again
        (only it), within the bounds of :func:`while_moving`."""
        wanted: Wanted = None
        if partitions is not None:
            wanted = {}
            for p in partitions:
                wanted.setdefault(p.topic, []).append(p.partition)
        answered: dict[str, GroupAnswer] = {}

        async def ask_the_rest() -> None:
            rest = [g for g in groups if g not in answered]
            found = await self._run("OffsetFetch", lambda: self._open().committed_of(rest, wanted))
            answered.update((g, a) for g, a in found.items() if not a.error_code)
            _raise_refusals(found)

        if groups:
            await while_moving(self._settings, COORDINATOR_MOVING, ask_the_rest)
        with without_gc_pauses():
            return [_group_offsets(g, answered[g], partitions) for g in groups]

    # --- the client -----------------------------------------------------------------------------

    def _timeout_ms(self) -> int:
        return int(self._settings.request_timeout * 1000)

    def _open(self) -> KcrAdminClient:
        with self._lock:
            if self._client is None:
                self._client = KcrAdminClient(**self._config)
                if self._on_request is not None:
                    self._client.on_request = self._on_request
            return self._client

    def _close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def _run(self, api: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), self._settings.deadline)
        except TimeoutError:
            raise KafkaTimeoutError(
                f"no answer to {api} within {self._settings.deadline:.0f}s"
            ) from None
        except KafkaError as error:
            raise _typed(api, error) from None


def _raise_refusals(found: dict[str, GroupAnswer]) -> None:
    """A group refused outright raises, typed; else a group whose coordinator moved raises
    a retriable error (the caller kept the groups answered, and asks only for the rest)."""
    failures: list[KafkaPortError] = []
    moving: list[KafkaPortError] = []
    for group, answer in found.items():
        if answer.error_code:
            error = translate_code(
                answer.error_code,
                answer.message,
                f"fetch committed offsets of group {group}",
                resource="group",
                name=group,
            )
            (moving if error.code in COORDINATOR_MOVING else failures).append(error)
    for errors in (failures, moving):
        if errors:
            first = errors[0]
            if len(errors) > 1:
                first.message += f" (and {len(errors) - 1} other group(s) likewise)"
                first.args = (first.message,)
            raise first


def _group_offsets(
    group: str, answer: GroupAnswer, partitions: list[TopicPartition] | None
) -> GroupOffsets:
    """Rows in the order asked, null where none was committed; without ``partitions``,
    only the committed ones, by topic and partition."""
    found: dict[tuple[str, int], int | None] = {}
    for topic, partition, offset, code in answer.rows:
        if code and code != UNKNOWN_TOPIC_OR_PARTITION:
            action = f"fetch committed offsets of group {group}"
            raise translate_code(code, None, action, resource="group", name=group)
        found[(topic, partition)] = offset if offset >= 0 else None
    if partitions is None:
        rows = [
            {"topic": t, "partition": p, "offset": o}
            for (t, p), o in sorted(found.items())
            if o is not None
        ]
    else:
        rows = [
            {
                "topic": p.topic,
                "partition": p.partition,
                "offset": found.get((p.topic, p.partition)),
            }
            for p in partitions
        ]
    return GroupOffsets(group=group, offsets=_COMMITTED_ROWS.validate_python(rows))


def _refused(response: Any, action: str) -> KafkaPortError:
    """A request the broker refused as a whole (its top-level error code)."""
    return translate_code(response.error_code, getattr(response, "error_message", None), action)


def _typed(api: str, error: KafkaError) -> KafkaPortError:
    text = f"{api} failed: {type(error).__name__}: {error}"
    if isinstance(error, BrokerResponseError) and error.errno:
        return translate_code(error.errno, str(error), api, retriable=error.retriable)
    if isinstance(error, KafkaPythonAuthorization | SaslAuthenticationFailedError):
        return AuthorizationError(text + "; kcr's principal needs Describe on the Cluster resource")
    if isinstance(error, IncompatibleBrokerVersion):
        return UnsupportedByBrokerError(f"{text}; the broker does not serve {api}", feature=api)
    if isinstance(error, KafkaPythonTimeout):
        return KafkaTimeoutError(text)
    if isinstance(error, KafkaConnectionError):
        return UnavailableError(text + "; check the bootstrap servers and credentials")
    return UnavailableError(text)
