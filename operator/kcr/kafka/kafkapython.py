"""The admin APIs librdkafka lacks, through kafka-python: ListPartitionReassignments.

confluent-kafka 2.16's AdminClient has no call for reassignments in progress; kafka-python
3 does. Its client is blocking, so each call runs in a worker thread under the same
deadline as every other Kafka call, and its errors become the port's typed errors. It is
opened on first use with the same connection settings (SASL, TLS) as the main client.
"""

import asyncio
import ssl
import threading
from typing import Any

from kafka import TopicPartition as KafkaPythonPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import (
    AuthorizationError as KafkaPythonAuthorization,
)
from kafka.errors import (
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailedError,
)
from kafka.errors import KafkaTimeoutError as KafkaPythonTimeout

from kcr.kafka.credentials import Credentials
from kcr.kafka.errors import (
    AuthorizationError,
    KafkaPortError,
    KafkaTimeoutError,
    UnavailableError,
)
from kcr.kafka.readmodel import Reassignment
from kcr.kafka.settings import ClientSettings
from kcr.model import KafkaClusterSpec


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def admin_config(
    spec: KafkaClusterSpec,
    credentials: Credentials,
    settings: ClientSettings,
    tls: ssl.SSLContext | None,
    security_protocol: str,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": [s.strip() for s in spec.bootstrap_servers.split(",")],
        "client_id": settings.client_id,
        "security_protocol": security_protocol,
        "request_timeout_ms": int(settings.request_timeout * 1000),
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
    """One kafka-python admin client, opened lazily, used by one call at a time."""

    def __init__(self, config: dict[str, Any], settings: ClientSettings) -> None:
        self._config = config
        self._settings = settings
        self._lock = threading.Lock()
        self._client: KafkaAdminClient | None = None

    async def list_reassignments(self, topics: list[str] | None = None) -> list[Reassignment]:
        found = await self._run(self._list, topics)
        return sorted(found, key=lambda r: (r.topic, r.partition))

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _list(self, topics: list[str] | None) -> list[Reassignment]:
        client = self._open()
        moving: dict[KafkaPythonPartition, dict[str, list[int]]]
        moving = client.list_partition_reassignments(timeout_ms=self._timeout_ms())
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

    def _timeout_ms(self) -> int:
        return int(self._settings.request_timeout * 1000)

    def _open(self) -> KafkaAdminClient:
        with self._lock:
            if self._client is None:
                self._client = KafkaAdminClient(**self._config)
            return self._client

    def _close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def _run(self, call: Any, *arguments: Any) -> Any:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(call, *arguments), self._settings.deadline
            )
        except TimeoutError:
            raise KafkaTimeoutError(
                f"no answer to ListPartitionReassignments within {self._settings.deadline:.0f}s"
            ) from None
        except KafkaError as error:
            raise _typed(error) from None


def _typed(error: KafkaError) -> KafkaPortError:
    text = f"ListPartitionReassignments failed: {type(error).__name__}: {error}"
    if isinstance(error, KafkaPythonAuthorization | SaslAuthenticationFailedError):
        return AuthorizationError(text + "; kcr's principal needs Describe on the Cluster resource")
    if isinstance(error, KafkaPythonTimeout):
        return KafkaTimeoutError(text)
    if isinstance(error, KafkaConnectionError):
        return UnavailableError(text + "; check the bootstrap servers and credentials")
    return UnavailableError(text)
