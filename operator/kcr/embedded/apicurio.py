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
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from kcr.embedded.kraft import CACHE, KraftError, java_command, stop_process
from kcr.embedded.tansu import LOOPBACK, free_port

log = logging.getLogger(__name__)

APICURIO_VERSION = "2.4.2.Final"
PROJECT = Path(__file__).with_name("maven") / "apicurio"
POM = PROJECT / "pom.xml"
RUNNER = "kcr-embedded-apicurio-1-runner.jar"
MAIN = "io.quarkus.runner.GeneratedMain"
CCOMPAT = "/apis/ccompat/v7"
BUILD_TIMEOUT_SECONDS = 1800
POLL_SECONDS = 0.2


@dataclass
class SchemaRegistry:
    url: str
    """The server's root; the Confluent-compatible API is :attr:`ccompat_url`."""
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def ccompat_url(self) -> str:
        return self.url + CCOMPAT

    @property
    def log_path(self) -> Path:
        return self.directory / "registry.log"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_bytes()[-1500:].decode(errors="replace")
        except OSError:
            return ""


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
    directory = Path(tempfile.mkdtemp(prefix="kcr-apicurio-"))
    port = free_port()
    with (directory / "registry.log").open("ab") as output:
        process = subprocess.Popen(
            java_command(
                str(jar),
                MAIN,
                options=(
                    f"-Dquarkus.http.host={LOOPBACK}",
                    f"-Dquarkus.http.port={port}",
                    # The production profile opens 20 connections to its in-memory database.
                    "-Dquarkus.datasource.jdbc.min-size=2",
                    "-Dquarkus.datasource.jdbc.initial-size=2",
                ),
            ),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=directory,
            start_new_session=True,
        )
    registry = SchemaRegistry(url=f"http://{LOOPBACK}:{port}", directory=directory, process=process)
    try:
        _wait_ready(registry, ready_timeout)
    except BaseException:
        stop_registry(registry)
        raise
    log.info("Apicurio Registry on %s (pid %d)", registry.url, process.pid)
    return registry


def _wait_ready(registry: SchemaRegistry, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise KraftError(f"Apicurio Registry exited: {registry.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{registry.ccompat_url}/subjects", timeout=2.0).status_code == 200:
                return
        time.sleep(POLL_SECONDS)
    raise KraftError(
        f"Apicurio Registry did not answer within {timeout:.0f}s: {registry.log_tail()}"
    )


def stop_registry(registry: SchemaRegistry) -> None:
    """By pid, like the brokers: SIGTERM, then SIGKILL after the grace period."""
    stop_process(registry.process)
    shutil.rmtree(registry.directory, ignore_errors=True)


@contextlib.contextmanager
def running_registry() -> Iterator[SchemaRegistry]:
    registry = start_registry()
    try:
        yield registry
    finally:
        stop_registry(registry)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        sys.stdout.write(f"Apicurio Registry {APICURIO_VERSION}: {runner_jar()}\n")
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
