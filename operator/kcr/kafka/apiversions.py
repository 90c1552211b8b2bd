"""Which Kafka APIs a broker serves, asked with one ApiVersions request (KIP-35).

librdkafka knows the answer but does not expose it. Asking directly lets kcr refuse an
unsupported call with a clear error instead of sending it, which matters because some
Kafka-compatible brokers fail badly on requests they only half implement. ApiVersions is
answered before SASL authentication, so only the transport (TLS or not) is needed.
"""

import asyncio
import ssl
import struct

from pydantic.alias_generators import to_snake

from kcr.kafka.errors import UnavailableError
from kcr.kafka.readmodel import Capabilities

API_VERSIONS = 18
CREATE_PARTITIONS = 37
DESCRIBE_ACLS = 29
CREATE_ACLS = 30
DELETE_ACLS = 31
DESCRIBE_LOG_DIRS = 35
ELECT_LEADERS = 43
ALTER_PARTITION_REASSIGNMENTS = 45
DESCRIBE_CLIENT_QUOTAS = 48
ALTER_CLIENT_QUOTAS = 49

_HEADER = struct.Struct(">hhih")  # api key, api version, correlation id, client id length
_ENTRY = struct.Struct(">hhh")  # api key, min version, max version
MAX_RESPONSE_BYTES = 1 << 20

ApiRanges = dict[int, tuple[int, int]]


def encode_request(correlation_id: int, client_id: str = "kcr") -> bytes:
    name = client_id.encode()
    body = _HEADER.pack(API_VERSIONS, 0, correlation_id, len(name)) + name
    return struct.pack(">i", len(body)) + body


def decode_response(payload: bytes, correlation_id: int) -> ApiRanges:
    """Version 0 layout: correlation id, error code, then [api key, min, max] entries."""
    got, error, count = struct.unpack_from(">ihi", payload)
    if got != correlation_id:
        raise UnavailableError(f"ApiVersions answer for request {got}, expected {correlation_id}")
    if error != 0:
        raise UnavailableError(f"the broker answered ApiVersions with error code {error}")
    entries = (_ENTRY.unpack_from(payload, 10 + i * _ENTRY.size) for i in range(count))
    return {key: (low, high) for key, low, high in entries}


async def fetch_api_versions(
    host: str, port: int, *, tls: ssl.SSLContext | None = None, timeout: float = 5.0
) -> ApiRanges:
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
            try:
                writer.write(encode_request(1))
                await writer.drain()
                (size,) = struct.unpack(">i", await reader.readexactly(4))
                if not 0 < size <= MAX_RESPONSE_BYTES:
                    raise UnavailableError(f"{host}:{port} sent an implausible answer size {size}")
                return decode_response(await reader.readexactly(size), 1)
            finally:
                writer.close()
    except TimeoutError:
        raise UnavailableError(
            f"{host}:{port} did not answer ApiVersions within {timeout:.0f}s"
        ) from None
    except (OSError, asyncio.IncompleteReadError) as error:
        raise UnavailableError(f"cannot ask {host}:{port} for its API versions: {error}") from None


# API key, kcr's feature name, Kafka's API name: one row per optional API kcr uses.
OPTIONAL_APIS = (
    (CREATE_PARTITIONS, "createPartitions", "CreatePartitions"),
    (DESCRIBE_ACLS, "describeAcls", "DescribeAcls"),
    (CREATE_ACLS, "createAcls", "CreateAcls"),
    (DELETE_ACLS, "deleteAcls", "DeleteAcls"),
    (DESCRIBE_LOG_DIRS, "describeLogDirs", "DescribeLogDirs"),
    (ELECT_LEADERS, "electLeaders", "ElectLeaders"),
    (ALTER_PARTITION_REASSIGNMENTS, "alterPartitionReassignments", "AlterPartitionReassignments"),
    (DESCRIBE_CLIENT_QUOTAS, "describeClientQuotas", "DescribeClientQuotas"),
    (ALTER_CLIENT_QUOTAS, "alterClientQuotas", "AlterClientQuotas"),
)


def capabilities_from(ranges: ApiRanges) -> Capabilities:
    """Each optional API on its own, with one dependency: kcr creates ACLs only where it can
    also delete them, since every binding it grants must be revocable by a rollback.

    Measured on tansu 0.6: it serves DescribeAcls (an empty answer) and advertises CreateAcls
    without DeleteAcls, and its CreateAcls answer is one librdkafka cannot parse (the client
    aborts the process); the dependency keeps kcr from sending it.
    """
    reasons = {
        feature: f"the broker does not serve {api} (API key {key})"
        for key, feature, api in OPTIONAL_APIS
        if key not in ranges
    }
    if "deleteAcls" in reasons and "createAcls" not in reasons:
        reasons["createAcls"] = (
            "the broker serves CreateAcls but not DeleteAcls (API key 31), so a binding kcr "
            "granted could not be revoked by a rollback"
        )
    return Capabilities.model_validate(
        {to_snake(feature): feature not in reasons for _, feature, _ in OPTIONAL_APIS}
        | {"reasons": reasons}
    )
