"""Apache Kafka's own ``ConfigCommand`` (``kafka-configs.sh``) against an embedded cluster.

Tests set client quotas with the tool an operator would use, not through kcr: its jars
(``org.apache.kafka:kafka-tools``) come from Maven Central through ``maven/tools/pom.xml``
(``python -m kcr.embedded.config_command`` resolves them once), and it connects as the
cluster's SASL admin.
"""

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from kcr.embedded.kraft import (
    ADMIN,
    KAFKA_VERSION,
    KraftCluster,
    KraftError,
    java_command,
    password_of,
    resolve_classpath,
)

POM = Path(__file__).with_name("maven") / "tools" / "pom.xml"
NAME = f"kafka-tools-{KAFKA_VERSION}"
MAIN = "org.apache.kafka.tools.ConfigCommand"


def tools_classpath(*, offline: bool = False) -> str:
    return resolve_classpath(offline=offline, pom=POM, name=NAME)


def admin_properties(cluster: KraftCluster) -> str:
    """The ``--command-config`` of the cluster's SASL admin."""
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN}" password="{password_of(ADMIN)}";'
    )
    return f"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config={jaas}\n"


def config_command(cluster: KraftCluster, *arguments: str, timeout: float = 120.0) -> str:
    """Run ``ConfigCommand`` with ``arguments`` as the admin; its output, or a
    :class:`KraftError` with what it printed."""
    classpath = tools_classpath(offline=True)
    with tempfile.TemporaryDirectory(prefix="kcr-configs-") as directory:
        config = Path(directory) / "admin.properties"
        config.write_text(admin_properties(cluster))
        result = subprocess.run(
            java_command(
                classpath,
                MAIN,
                "--bootstrap-server",
                cluster.bootstrap,
                "--command-config",
                str(config),
                *arguments,
            ),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    if result.returncode != 0:
        raise KraftError(f"ConfigCommand {' '.join(arguments)} failed: {result.stderr[-1500:]}")
    return result.stdout


def set_client_quota(cluster: KraftCluster, client_id: str, **quotas: int) -> str:
    """Give the client id quotas such as ``producer_byte_rate=1024``, as
    ``kafka-configs.sh --alter --entity-type clients`` does."""
    settings = ",".join(f"{name}={value}" for name, value in sorted(quotas.items()))
    return config_command(
        cluster,
        "--alter",
        "--add-config",
        settings,
        "--entity-type",
        "clients",
        "--entity-name",
        client_id,
    )


def describe_client_quota(cluster: KraftCluster, client_id: str) -> str:
    return config_command(
        cluster, "--describe", "--entity-type", "clients", "--entity-name", client_id
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        sys.stdout.write(
            f"Apache Kafka tools {KAFKA_VERSION}: {len(tools_classpath().split(os.pathsep))} jars\n"
        )
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
