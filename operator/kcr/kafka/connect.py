"""Opening the real Kafka port: a ``KafkaClusterSpec`` (or a bootstrap string) to a client."""

from collections.abc import Callable
from typing import Any

from kcr.kafka.backend import Backend
from kcr.kafka.credentials import Credentials
from kcr.kafka.service import KafkaService
from kcr.kafka.settings import ClientSettings
from kcr.model import KafkaClusterSpec


def bootstrap_addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``host:port[,host:port]`` as (host, port) pairs, in the given order."""
    pairs = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        pairs.append((host, int(port)))
    return pairs


def open_kafka(
    cluster: KafkaClusterSpec | str,
    credentials: Credentials | None = None,
    settings: ClientSettings | None = None,
    *,
    extra_config: dict[str, Any] | None = None,
    on_request: Callable[[int], None] | None = None,
) -> KafkaService:
    """The confluent-kafka port; ``extra_config`` adds librdkafka settings (e.g. statistics),
    ``on_request`` counts the requests kcr sends through kafka-python (librdkafka counts its
    own in its statistics).

    Nothing is sent until the first call, so opening never blocks or fails on the network.
    """
    return KafkaService(
        open_backend(
            cluster, credentials, settings, extra_config=extra_config, on_request=on_request
        )
    )


def open_backend(
    cluster: KafkaClusterSpec | str,
    credentials: Credentials | None = None,
    settings: ClientSettings | None = None,
    *,
    extra_config: dict[str, Any] | None = None,
    on_request: Callable[[int], None] | None = None,
) -> Backend:
    """The confluent-kafka primitives alone, for checking a broker's answers to them."""
    from kcr.kafka.confluent.backend import (  # noqa: PLC0415 (load librdkafka only here)
        ConfluentBackend,
        probe_capabilities,
    )
    from kcr.kafka.confluent.config import (  # noqa: PLC0415
        client_config,
        security_protocol,
        tls_context,
    )
    from kcr.kafka.kafkapython import KafkaPythonAdmin, admin_config  # noqa: PLC0415

    spec = (
        cluster
        if isinstance(cluster, KafkaClusterSpec)
        else KafkaClusterSpec(bootstrap_servers=cluster)
    )
    secrets = credentials or Credentials()
    chosen = settings or ClientSettings()
    config = client_config(spec, secrets, chosen) | (extra_config or {})
    addresses = bootstrap_addresses(spec.bootstrap_servers)

    async def probe() -> Any:
        return await probe_capabilities(
            addresses, tls_context(spec, secrets), chosen.request_timeout
        )

    tls = tls_context(spec, secrets)
    moves = KafkaPythonAdmin(
        admin_config(spec, secrets, chosen, tls, security_protocol(spec)), chosen, on_request
    )
    return ConfluentBackend(config, chosen, probe, moves)
