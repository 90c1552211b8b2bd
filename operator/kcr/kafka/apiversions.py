"""Which Kafka APIs a broker serves, asked with one ApiVersions request (KIP-35).

librdkafka knows the answer but does not expose it. Asking directly lets kcr refuse an
unsupported call with a clear error instead of sending it, which matters because some
Kafka-compatible brokers fail badly on requests they only half implement. ApiVersions is
answered before SASL authentication, so only the transport (TLS or not) is needed.
"""

import asyncio
import ssl
import struct

from kcr.kafka.errors import UnavailableError
from kcr.kafka.readmodel import Capabilities

API_VERSIONS = 18
CREATE_PARTITIONS = 37
DESCRIBE_ACLS = 29
CREATE_ACLS = 30
DELETE_ACLS = 31

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


def capabilities_from(ranges: ApiRanges) -> Capabilities:
    """ACL management needs all three ACL APIs; one missing means kcr sends none of them."""
    reasons = {}
    if CREATE_PARTITIONS not in ranges:
        reasons["createPartitions"] = "the broker does not serve CreatePartitions (API key 37)"
    missing = [
        name
        for key, name in (
            (DESCRIBE_ACLS, "DescribeAcls (29)"),
            (CREATE_ACLS, "CreateAcls (30)"),
            (DELETE_ACLS, "DeleteAcls (31)"),
        )
        if key not in ranges
    ]
    if missing:
        reasons["acls"] = "the broker does not serve " + ", ".join(missing)
    return Capabilities(
        create_partitions="createPartitions" not in reasons,
        acls="acls" not in reasons,
        reasons=reasons,
    )
