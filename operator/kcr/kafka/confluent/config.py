"""librdkafka settings and a TLS context from a ``KafkaClusterSpec`` and its credentials."""

import logging
import os
import ssl
import tempfile
from typing import Any

from kcr.kafka.credentials import Credentials
from kcr.kafka.errors import InvalidRequestError
from kcr.kafka.settings import ClientSettings
from kcr.model import KafkaClusterSpec

LIBRDKAFKA_LOGGER = logging.getLogger("kcr.kafka.librdkafka")


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def security_protocol(spec: KafkaClusterSpec) -> str:
    tls = spec.tls is not None and spec.tls.enabled
    if spec.sasl is not None:
        return "SASL_SSL" if tls else "SASL_PLAINTEXT"
    return "SSL" if tls else "PLAINTEXT"


def client_config(
    spec: KafkaClusterSpec, credentials: Credentials, settings: ClientSettings
) -> dict[str, Any]:
    timeout_ms = int(settings.request_timeout * 1000)
    config: dict[str, Any] = {
        "bootstrap.servers": spec.bootstrap_servers,
        "client.id": settings.client_id,
        "security.protocol": security_protocol(spec),
        # A silent connection is dropped a second after a request's own deadline, so a
        # hung broker shows as a timeout and a refused connection as unavailable.
        "socket.timeout.ms": timeout_ms + 1000,
        "socket.connection.setup.timeout.ms": timeout_ms + 1000,
        "reconnect.backoff.max.ms": 2000,
        # A connection to every broker, kept: with sparse connections each request that
        # names a lost broker re-dials it at once, past the backoff, and the client spun a
        # core on thousands of refused connects a second while a broker was down.
        "enable.sparse.connections": False,
        "logger": LIBRDKAFKA_LOGGER,
    }
    tls_values = {
        "ssl.ca.pem": _secret(credentials.ca_pem),
        "ssl.certificate.pem": _secret(credentials.certificate_pem),
        "ssl.key.pem": _secret(credentials.key_pem),
    }
    if spec.tls is not None and spec.tls.enabled:
        config |= {key: value for key, value in tls_values.items() if value is not None}
    if spec.sasl is not None:
        username = _secret(credentials.sasl_username)
        password = _secret(credentials.sasl_password)
        if username is None or password is None:
            raise InvalidRequestError(
                f"spec.sasl asks for {spec.sasl.mechanism.value} but the username or password "
                "secret was not resolved"
            )
        config |= {
            "sasl.mechanism": spec.sasl.mechanism.value,
            "sasl.username": username,
            "sasl.password": password,
        }
    return config


def tls_context(spec: KafkaClusterSpec, credentials: Credentials) -> ssl.SSLContext | None:
    """The same trust and client identity for kcr's own ApiVersions probe."""
    if spec.tls is None or not spec.tls.enabled:
        return None
    context = ssl.create_default_context(cadata=_secret(credentials.ca_pem))
    certificate = _secret(credentials.certificate_pem)
    key = _secret(credentials.key_pem)
    if certificate is not None and key is not None:
        _load_client_identity(context, certificate, key)
    return context


def _load_client_identity(context: ssl.SSLContext, certificate: str, key: str) -> None:
    """``ssl`` loads a client certificate only from a file: a private one, removed at once."""
    with tempfile.TemporaryDirectory(prefix="kcr-tls-") as directory:
        path = os.path.join(directory, "identity.pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(certificate.rstrip("\n") + "\n" + key)
        context.load_cert_chain(path)
