"""`kcr`: validate and plan change requests, generate CRDs, run the operator and MCP server."""

import json
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError
from rich.console import Console

from kcr.cli.lazy import LazyGroup
from kcr.cli.review_view import print_review
from kcr.model import ClusterPolicy, KafkaCluster, KafkaClusterSpec, Storage, explain
from kcr.plan import parse_request, review_spec


@click.group(
    cls=LazyGroup,
    lazy={
        "operator": "kcr.operator.cli:command",
        "mcp": "kcr.mcp.cli:command",
        "demo": "kcr.embedded.cli:demo",
        "dev": "kcr.embedded.cli:dev",
        "lab": "kcr.lab.cli:command",
        "audit": "kcr.cli.audit:audit",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(version("kcr"), prog_name="kcr")
def cli() -> None:
    """Kafka change requests: assistants draft, humans approve, the operator executes."""


@cli.command()
@click.option(
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one YAML file per CRD into this directory instead of printing them.",
)
def crds(output: Path | None) -> None:
    """Print (or write) the CustomResourceDefinitions generated from the models."""
    from kcr.crd import render_crds  # noqa: PLC0415 (keeps `kcr validate` light)

    rendered = render_crds()
    if output is None:
        click.echo("---\n".join(rendered.values()), nl=False)
        return
    output.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (output / name).write_text(text)
        click.echo(f"wrote {output / name}", err=True)


def load_documents(paths: tuple[Path, ...]) -> list[tuple[Path, Any]]:
    documents = []
    for path in paths:
        try:
            loaded = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as error:
            raise click.ClickException(f"{path}: not valid YAML: {error}") from error
        documents += [(path, doc) for doc in loaded if doc is not None]
    return documents


def cluster_specs(documents: list[tuple[Path, Any]]) -> dict[str, KafkaClusterSpec]:
    specs = {}
    for path, doc in documents:
        if isinstance(doc, dict) and doc.get("kind") == "KafkaCluster":
            try:
                cluster = KafkaCluster.model_validate(
                    {k: v for k, v in doc.items() if k != "status"}
                )
            except ValidationError as error:
                lines = "\n  ".join(explain(error))
                raise click.ClickException(f"{path}: invalid KafkaCluster:\n  {lines}") from error
            specs[cluster.metadata.name] = cluster.spec
    return specs


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--cluster",
    "cluster_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="KafkaCluster YAML whose policy applies (KafkaClusters in FILES count too).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per request.")
def validate(files: tuple[Path, ...], cluster_files: tuple[Path, ...], as_json: bool) -> None:
    """Validate KafkaChangeRequest YAML and print risk, blast radius, plan and rollback.

    Exits 1 when any request is invalid, naming every bad field and the rule it breaks.
    """
    documents = load_documents(files)
    clusters = cluster_specs([*documents, *load_documents(cluster_files)])
    console = Console(width=120, soft_wrap=False)
    failed = 0
    requests = [
        (p, d)
        for p, d in documents
        if not (isinstance(d, dict) and d.get("kind") == "KafkaCluster")
    ]
    if not requests:
        raise click.ClickException("no KafkaChangeRequest found in the given files")
    for path, document in requests:
        parsed = parse_request(document)
        if parsed.request is None:
            failed += 1
            _report_errors(path, parsed.errors, as_json)
            continue
        request = parsed.request
        cluster = clusters.get(request.spec.cluster)
        policy = cluster.policy if cluster else ClusterPolicy()
        storage = cluster.storage if cluster else Storage.LOCAL
        review = review_spec(request.spec, policy, datetime.now(UTC), storage=storage)
        if not review.valid:
            failed += 1
        if as_json:
            click.echo(json.dumps(_review_json(request.metadata.name, review)))
        else:
            print_review(console, request, review)
    if failed:
        sys.exit(1)


def _report_errors(path: Path, errors: list[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file": str(path), "valid": False, "errors": errors}))
        return
    click.echo(f"{path}: invalid KafkaChangeRequest", err=True)
    for line in errors:
        click.echo(f"  {line}", err=True)


def _review_json(name: str, review: Any) -> dict[str, Any]:
    return {
        "name": name,
        "valid": review.valid,
        "errors": review.violations,
        "warnings": review.warnings,
        "risk": review.risk.value,
        "irreversible": review.irreversible,
        "requiredApprovals": review.required_approvals,
        "specHash": review.spec_hash,
        "blastRadius": review.blast_radius.model_dump(mode="json"),
        "dataMovement": review.data_movement.model_dump(mode="json"),
        "plan": review.plan.model_dump(mode="json", exclude_none=True),
        "rollbackPlan": review.rollback.model_dump(mode="json", exclude_none=True),
    }
