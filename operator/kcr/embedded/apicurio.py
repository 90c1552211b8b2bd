"""Apicurio Registry on 127.0.0.1: a real schema registry for the lab and the schema tests.

Apicurio Registry 2.4.2 is a Quarkus application: its jars come from Maven Central through
``maven/apicurio/pom.xml``, and Quarkus's build step turns them into a runnable jar. ``python
-m kcr.embedded.apicurio`` (``make apicurio``) builds it once into the cache beside the
Kafka classpaths, keyed by the pom's and sources' digest, outside the source tree. A
registry keeps its schemas in memory, serves the Confluent-compatible API under
``/apis/ccompat/v7`` (what producers' serializers call) and is stopped by its process id.
"""

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from kcr.embedded.java_service import JavaService, running, start_service
from kcr.embedded.kraft import CACHE, KraftError, java_command
from kcr.embedded.tansu import LOOPBACK

log = logging.getLogger(__name__)

APICURIO_VERSION = "2.4.2.Final"
PROJECT = Path(__file__).with_name("maven") / "apicurio"
POM = PROJECT / "pom.xml"
RUNNER = "kcr-embedded-apicurio-1-runner.jar"
MAIN = "io.quarkus.runner.GeneratedMain"
CCOMPAT = "/apis/ccompat/v7"
BUILD_TIMEOUT_SECONDS = 1800


SchemaRegistry = JavaService
"""Its Confluent-compatible API is at ``api_url``."""


def _digest() -> str:
    """The pom and the sources it builds: a changed one builds a new application."""
    sha = hashlib.sha256()
    for path in sorted([POM, *(p for p in (PROJECT / "src").rglob("*") if p.is_file())]):
        sha.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:12]


def application_directory() -> Path:
    return CACHE / f"apicurio-registry-{APICURIO_VERSION}-{_digest()}"


def runner_jar(*, offline: bool = False) -> Path:
    """The built registry's jar; built by Maven first unless ``offline``."""
    built = application_directory()
    if (built / RUNNER).exists():
        return built / RUNNER
    if offline:
        raise KraftError(
            f"Apicurio Registry {APICURIO_VERSION} is not built yet: run `make apicurio` "
            "(Maven builds it from Maven Central)"
        )
    maven = shutil.which("mvn")
    if maven is None:
        raise KraftError("building Apicurio Registry needs Maven (`mvn`) on PATH")
    partial = built.with_name(f"{built.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [
            maven,
            "--batch-mode",
            "--quiet",
            "-f",
            str(POM),
            "package",
            "-Dmaven.test.skip=true",
            f"-Dkcr.build.directory={partial}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    if result.returncode != 0 or not (partial / RUNNER).exists():
        shutil.rmtree(partial, ignore_errors=True)
        raise KraftError(f"Maven could not build Apicurio Registry: {result.stdout[-2000:]}")
    try:
        partial.rename(built)
    except OSError:  # another build finished first: its result is the same
        shutil.rmtree(partial, ignore_errors=True)
    return built / RUNNER


def start_registry(*, ready_timeout: float = 120.0) -> SchemaRegistry:
    jar = runner_jar(offline=True)

    def command(directory: Path, port: int) -> list[str]:
        return java_command(
            str(jar),
            MAIN,
            options=(
                f"-Dquarkus.http.host={LOOPBACK}",
                f"-Dquarkus.http.port={port}",
                # The production profile opens 20 connections to its in-memory database.
                "-Dquarkus.datasource.jdbc.min-size=2",
                "-Dquarkus.datasource.jdbc.initial-size=2",
            ),
        )

    return start_service(
        "Apicurio Registry",
        command,
        ready_path="/subjects",
        api_path=CCOMPAT,
        in_directory=True,
        ready_timeout=ready_timeout,
    )


@contextlib.contextmanager
def running_registry() -> Iterator[SchemaRegistry]:
    with running(start_registry()) as registry:
        yield registry


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        sys.stdout.write(f"Apicurio Registry {APICURIO_VERSION}: {runner_jar()}\n")
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
