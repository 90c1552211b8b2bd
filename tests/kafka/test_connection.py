"""From a KafkaCluster spec and its secrets to librdkafka settings and a TLS context."""

import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from kcr.kafka import AuthorizationError, Credentials, InvalidRequestError
from kcr.kafka.confluent.config import client_config, security_protocol, tls_context
from kcr.kafka.connect import bootstrap_addresses
from kcr.kafka.credentials import file_secret_reader, resolve_credentials
from kcr.kafka.settings import ClientSettings
from kcr.model import KafkaClusterSpec

REF = {"name": "kafka-client", "key": "value"}


def _spec(**extra: object) -> KafkaClusterSpec:
    return KafkaClusterSpec.model_validate({"bootstrapServers": "b1:9093,b2:9093", **extra})


SASL = {
    "mechanism": "SCRAM-SHA-512",
    "username": {"name": "kafka-user", "key": "username"},
    "password": {"name": "kafka-user", "key": "password"},
}
TLS = {"ca": {"name": "kafka-ca", "key": "ca.crt"}}


@pytest.mark.parametrize(
    ("extra", "protocol"),
    [
        ({}, "PLAINTEXT"),
        ({"tls": TLS}, "SSL"),
        ({"tls": {"enabled": False}}, "PLAINTEXT"),
        ({"sasl": SASL}, "SASL_PLAINTEXT"),
        ({"sasl": SASL, "tls": TLS}, "SASL_SSL"),
    ],
    ids=["plain", "tls", "tls-disabled", "sasl", "sasl-over-tls"],
)
def test_security_protocol(extra: dict[str, object], protocol: str) -> None:
    assert security_protocol(_spec(**extra)) == protocol


def test_client_config_carries_secrets_and_deadlines() -> None:
    credentials = Credentials(
        ca_pem=SecretStr("CA PEM"),
        sasl_username=SecretStr("alice"),
        sasl_password=SecretStr("s3cret"),
    )
    config = client_config(
        _spec(sasl=SASL, tls=TLS), credentials, ClientSettings(request_timeout=4, client_id="x")
    )
    assert config["bootstrap.servers"] == "b1:9093,b2:9093"
    assert config["security.protocol"] == "SASL_SSL"
    assert config["ssl.ca.pem"] == "CA PEM"
    assert (config["sasl.mechanism"], config["sasl.username"], config["sasl.password"]) == (
        "SCRAM-SHA-512",
        "alice",
        "s3cret",
    )
    assert config["socket.timeout.ms"] == 5000
    assert config["client.id"] == "x"
    assert "s3cret" not in repr(credentials)


def test_sasl_without_resolved_password_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="SCRAM-SHA-512 but the username or password"):
        client_config(_spec(sasl=SASL), Credentials(), ClientSettings())


@pytest.mark.asyncio
async def test_credentials_from_mounted_secret_files(tmp_path: Path) -> None:
    (tmp_path / "kafka-user").mkdir()
    (tmp_path / "kafka-user" / "username").write_text("alice")
    (tmp_path / "kafka-user" / "password").write_text("s3cret")
    credentials = await resolve_credentials(_spec(sasl=SASL), file_secret_reader(tmp_path))
    assert credentials.sasl_username is not None
    assert credentials.sasl_username.get_secret_value() == "alice"
    assert credentials.ca_pem is None


@pytest.mark.asyncio
async def test_missing_secret_file_names_the_path(tmp_path: Path) -> None:
    reader = file_secret_reader(tmp_path)
    with pytest.raises(InvalidRequestError, match=r"secret kafka-ca key ca\.crt not found"):
        await resolve_credentials(_spec(tls=TLS), reader)


@pytest.mark.asyncio
async def test_unreadable_secret_file_is_an_authorization_error(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-ca" / "ca.crt"
    secret.parent.mkdir()
    secret.write_text("x")
    secret.chmod(0)
    try:
        probe = secret.open()
    except PermissionError:
        pass
    else:
        probe.close()
        pytest.skip("running as a user that reads any file (root)")
    with pytest.raises(AuthorizationError, match="is not readable"):
        await resolve_credentials(_spec(tls=TLS), file_secret_reader(tmp_path))


def test_bootstrap_addresses() -> None:
    assert bootstrap_addresses("b1:9093,10.0.0.2:19092") == [("b1", 9093), ("10.0.0.2", 19092)]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[str, str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed, so no test certificate can be made")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=kcr-test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert.read_text(), key.read_text()


def test_tls_context_trusts_the_ca_and_presents_the_client_certificate(
    certificate: tuple[str, str],
) -> None:
    cert, key = certificate
    spec = _spec(
        tls={
            "ca": {"name": "kafka-ca", "key": "ca.crt"},
            "certificate": {"name": "client", "key": "tls.crt"},
            "key": {"name": "client", "key": "tls.key"},
        }
    )
    credentials = Credentials(
        ca_pem=SecretStr(cert), certificate_pem=SecretStr(cert), key_pem=SecretStr(key)
    )
    context = tls_context(spec, credentials)
    assert context is not None
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "kcr-test"),),)]
    assert tls_context(_spec(), Credentials()) is None
