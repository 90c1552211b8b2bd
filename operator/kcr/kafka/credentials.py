"""The secret half of a connection: TLS material and SASL credentials, resolved once.

A ``KafkaCluster`` names Secret keys; who reads them differs (the operator asks the
Kubernetes API, the CLI reads files such as a mounted Secret). Both hand a reader to
:func:`resolve_credentials`, and the adapter sees only the values, kept as ``SecretStr``
so they never print.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from kcr.kafka.errors import AuthorizationError, InvalidRequestError
from kcr.model import KafkaClusterSpec
from kcr.model.cluster import SecretKeyRef

SecretReader = Callable[[SecretKeyRef], Awaitable[str]]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_pem: SecretStr | None = None
    certificate_pem: SecretStr | None = None
    key_pem: SecretStr | None = None
    sasl_username: SecretStr | None = None
    sasl_password: SecretStr | None = None


async def resolve_credentials(spec: KafkaClusterSpec, read: SecretReader) -> Credentials:
    values: dict[str, SecretStr] = {}
    refs: dict[str, SecretKeyRef | None] = {
        "ca_pem": spec.tls.ca if spec.tls else None,
        "certificate_pem": spec.tls.certificate if spec.tls else None,
        "key_pem": spec.tls.key if spec.tls else None,
        "sasl_username": spec.sasl.username if spec.sasl else None,
        "sasl_password": spec.sasl.password if spec.sasl else None,
    }
    for field, ref in refs.items():
        if ref is not None:
            values[field] = SecretStr(await read(ref))
    return Credentials.model_validate(values)


def file_secret_reader(root: Path) -> SecretReader:
    """Reads ``<root>/<secret name>/<key>``: the layout of Secrets mounted as volumes."""

    async def read(ref: SecretKeyRef) -> str:
        path = root / ref.name / ref.key
        try:
            return path.read_text()
        except FileNotFoundError:
            raise InvalidRequestError(
                f"secret {ref.name} key {ref.key} not found: expected the file {path}"
            ) from None
        except PermissionError:
            raise AuthorizationError(f"secret file {path} is not readable by kcr") from None

    return read
