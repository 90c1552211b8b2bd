"""``kcr lab``: run the lab's scenarios and judge them (exit 1 when any verdict fails)."""

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from kcr.lab.cluster import StagingOptions
from kcr.lab.lab import LabOptions, run_lab


@click.command()
@click.option("--kafka-bootstrap", help="A staging cluster instead of the embedded three brokers.")
@click.option(
    "--kafka-security-protocol",
    type=click.Choice(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"], case_sensitive=False),
    default="PLAINTEXT",
    show_default=True,
)
@click.option(
    "--kafka-sasl-mechanism", type=click.Choice(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
)
@click.option("--kafka-username", help="The admin user the lab and kcr act as.")
@click.option("--kafka-ca-file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--kafka-client-username",
    help="A second user standing for an application (the ACL scenario); its password in "
    "KCR_LAB_CLIENT_PASSWORD.",
)
@click.option("--schema-registry-url", help="A Confluent-compatible schema registry.")
@click.option(
    "--prometheus-url",
    help="A Prometheus scraping the staging brokers (series labelled broker), for the "
    "scenarios that read broker metrics.",
)
@click.option("--prefix", default="", help="Topic and group prefix (default kcr-lab-<random>.).")
@click.option("--scenario", "only", multiple=True, help="Run only these scenarios (repeatable).")
@click.option(
    "--assistant",
    "assistant_command",
    help="Your own MCP client, run once per scenario (see the README for its contract).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("kcr-lab.html"),
    show_default=True,
)
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")
def command(**flags: object) -> None:
    """Build each incident on a real cluster, let the assistant diagnose and draft through
    kcr's MCP server, review it, let the operator run it, and judge the outcome."""
    if flags["list_only"]:
        from kcr.lab.scenario import discover  # noqa: PLC0415

        for name, scenario in discover().items():
            click.echo(f"{name:28} {scenario.title}")
        return
    staging = None
    if flags["kafka_bootstrap"]:
        staging = StagingOptions(
            bootstrap=str(flags["kafka_bootstrap"]),
            security_protocol=str(flags["kafka_security_protocol"]),
            sasl_mechanism=flags["kafka_sasl_mechanism"],  # type: ignore[arg-type]
            username=flags["kafka_username"],  # type: ignore[arg-type]
            password=os.environ.get("KCR_LAB_KAFKA_PASSWORD"),
            ca_file=flags["kafka_ca_file"],  # type: ignore[arg-type]
            client_username=flags["kafka_client_username"],  # type: ignore[arg-type]
            client_password=os.environ.get("KCR_LAB_CLIENT_PASSWORD"),
            schema_registry_url=flags["schema_registry_url"],  # type: ignore[arg-type]
            prometheus_url=flags["prometheus_url"],  # type: ignore[arg-type]
        )
    options = LabOptions(
        staging=staging,
        only=tuple(flags["only"]),  # type: ignore[arg-type]
        assistant_command=flags["assistant_command"],  # type: ignore[arg-type]
        report=flags["report"],  # type: ignore[arg-type]
        prefix=str(flags["prefix"] or ""),
    )
    try:
        passed = run_lab(options, Console())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    sys.exit(0 if passed else 1)
