"""Writes counted from the broker itself: ConfigRecords in the controller's metadata log.

Every topic config change the controller accepts is one ``CONFIG_RECORD`` in
``__cluster_metadata``; Apache Kafka's own ``DumpLogSegments`` decodes the log. A write
repeated by a restarted operator would show as a second record for the same key.
"""

import json
import subprocess
from pathlib import Path

from kcr.embedded.config_command import tools_classpath
from kcr.embedded.kraft import KraftCluster, java_command

DUMP_TIMEOUT_SECONDS = 120.0


def config_records(cluster: KraftCluster, topic: str, key: str) -> list[str]:
    """The values ``key`` was set to on ``topic`` (None for a deletion), oldest first."""
    directory = cluster.nodes[0].directory / "data" / "__cluster_metadata-0"
    files = sorted(str(p) for p in Path(directory).glob("*.log"))
    result = subprocess.run(
        java_command(
            tools_classpath(offline=True),
            "org.apache.kafka.tools.DumpLogSegments",
            "--cluster-metadata-decoder",
            "--files",
            ",".join(files),
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=DUMP_TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        raise RuntimeError(f"DumpLogSegments failed: {result.stderr[-1000:]}")
    values = []
    for line in result.stdout.splitlines():
        start = line.find('{"type":"CONFIG_RECORD"')
        if start < 0:
            continue
        try:
            data = json.loads(line[start:])["data"]
        except (ValueError, KeyError):
            continue
        if data.get("resourceName") == topic and data.get("name") == key:
            values.append(str(data.get("value")))
    return values
