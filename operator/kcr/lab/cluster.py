"""The Kafka cluster a lab runs on: the embedded three Apache Kafka brokers, or staging.

Embedded, the lab may kill and restart brokers and read the controller's metadata log.
On a staging cluster (``--kafka-bootstrap``) it only creates topics and groups under its
prefix, and removes them afterwards; drills that break brokers are skipped there.
"""

import base64
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from kcr.embedded.kraft import ADMIN, SASL_SECRET, KraftCluster, password_of
from kcr.kafka import ClientSettings, Credentials, KafkaPort, open_kafka
from kcr.lab.scenario import Need
from kcr.model import KafkaClusterSpec
from kcr.model.cluster import Sasl, SaslMechanism, SecretKeyRef, Tls

KAFKA_TIMEOUT_SECONDS = 15.0
CLIENT_USER = "app"
"""The embedded cluster's user that stands for an application the authorizer judges."""


@dataclass(frozen=True)
class StagingOptions:
    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    client_username: str | None = None
    client_password: str | None = None
    schema_registry_url: str | None = None
    prometheus_url: str | None = None


@dataclass
class LabKafka:
    """How the lab, kcr and the scenario's clients reach the cluster."""

    spec: KafkaClusterSpec
    credentials: Credentials
    admin_settings: dict[str, Any]
    client_settings: dict[str, Any] | None
    client_principal: str | None
    secret_data: dict[str, str] = field(default_factory=dict)
    """The Secret the KafkaCluster names, as plain strings."""
    embedded: KraftCluster | None = None
    schema_registry_url: str | None = None
    prometheus_url: str | None = None
    """A Prometheus that scrapes the brokers' metrics, each series labelled ``broker``."""

    @property
    def bootstrap(self) -> str:
        return self.spec.bootstrap_servers

    def open_admin(self) -> KafkaPort:
        """A new kcr Kafka client as the lab's admin user: one per scenario, so no
        scenario inherits the connections another one broke (a killed broker)."""
        settings = ClientSettings(request_timeout=KAFKA_TIMEOUT_SECONDS, client_id="kcr-lab")
        return open_kafka(self.spec, self.credentials, settings)

    def offers(self) -> set[str]:
        found = {Need.OPERATOR_CONTROL}
        if self.embedded is not None:
            found |= {Need.BROKER_CONTROL, Need.METADATA_LOG}
        if self.client_settings is not None:
            found.add(Need.CLIENT_USER)
        if self.schema_registry_url:
            found.add(Need.SCHEMA_REGISTRY)
        if self.prometheus_url:
            found.add(Need.BROKER_METRICS)
        return found

    def secret(self, namespace: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SASL_SECRET, "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in self.secret_data.items()},
        }


def embedded_kafka(
    cluster: KraftCluster,
    schema_registry_url: str | None = None,
    prometheus_url: str | None = None,
) -> LabKafka:
    return LabKafka(
        spec=cluster.spec(),
        credentials=cluster.credentials(),
        admin_settings=cluster.client_config(ADMIN),
        client_settings=cluster.client_config(CLIENT_USER),
        client_principal=f"User:{CLIENT_USER}",
        secret_data={"username": ADMIN, "password": password_of(ADMIN)},
        embedded=cluster,
        schema_registry_url=schema_registry_url,
        prometheus_url=prometheus_url,
    )


def staging_kafka(options: StagingOptions) -> LabKafka:
    """A cluster the user names; credentials go to a Secret on the lab's own Kubernetes API."""
    protocol = options.security_protocol.upper()
    settings: dict[str, Any] = {
        "bootstrap.servers": options.bootstrap,
        "security.protocol": protocol,
    }
    sasl = None
    secret: dict[str, str] = {}
    if protocol.startswith("SASL"):
        if not (options.sasl_mechanism and options.username and options.password):
            raise ValueError(
                f"--kafka-security-protocol {protocol} needs --kafka-sasl-mechanism, "
                "--kafka-username and KCR_LAB_KAFKA_PASSWORD"
            )
        mechanism = SaslMechanism(options.sasl_mechanism.upper())
        settings |= {
            "sasl.mechanism": mechanism.value,
            "sasl.username": options.username,
            "sasl.password": options.password,
        }
        sasl = Sasl(
            mechanism=mechanism,
            username=SecretKeyRef(name=SASL_SECRET, key="username"),
            password=SecretKeyRef(name=SASL_SECRET, key="password"),
        )
        secret = {"username": options.username, "password": options.password}
    tls = None
    ca_pem = None
    if protocol.endswith("SSL"):
        tls = Tls(enabled=True)
        if options.ca_file:
            settings["ssl.ca.location"] = options.ca_file
            with open(options.ca_file, encoding="utf-8") as handle:
                ca_pem = handle.read()
            secret["ca.crt"] = ca_pem
            tls = Tls(enabled=True, ca=SecretKeyRef(name=SASL_SECRET, key="ca.crt"))
    client = None
    principal = None
    if options.client_username and options.client_password and sasl is not None:
        client = settings | {
            "sasl.username": options.client_username,
            "sasl.password": options.client_password,
        }
        principal = f"User:{options.client_username}"
    return LabKafka(
        spec=KafkaClusterSpec(bootstrap_servers=options.bootstrap, sasl=sasl, tls=tls),
        credentials=Credentials(
            sasl_username=SecretStr(options.username) if options.username else None,
            sasl_password=SecretStr(options.password) if options.password else None,
            ca_pem=SecretStr(ca_pem) if ca_pem else None,
        ),
        admin_settings=settings,
        client_settings=client,
        client_principal=principal,
        secret_data=secret,
        schema_registry_url=options.schema_registry_url,
        prometheus_url=options.prometheus_url,
    )
