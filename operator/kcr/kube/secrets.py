"""One key of a Secret, as text: the Kafka credentials a KafkaCluster refers to.

The operator, the MCP server and the plugin all read Kafka passwords and certificates this
way; a missing key or one that is not UTF-8 text is named with the Secret and the key.
"""

import base64
import binascii

from kcr.kube.client import KubeClient
from kcr.kube.errors import KubeError
from kcr.kube.resources import segment


class SecretKeyError(KubeError):
    """The Secret was read, but the key is missing or is not text: a person must fix it."""

    @property
    def retriable(self) -> bool:
        return False


async def read_secret(client: KubeClient, namespace: str, name: str, key: str) -> str:
    secret = await client.get(
        f"/api/v1/namespaces/{segment(namespace)}/secrets/{segment(name)}",
        f"reading Secret {namespace}/{name}",
    )
    return decode_secret_key(secret, f"{namespace}/{name}", key)


def decode_secret_key(secret: dict[str, object], where: str, key: str) -> str:
    """The base64 ``data`` of ``key``, decoded to text."""
    data = secret.get("data") or {}
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise SecretKeyError(f"Secret {where} has no key {key}")
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise SecretKeyError(
            f"Secret {where} key {key} is not base64-encoded UTF-8 text"
        ) from error
