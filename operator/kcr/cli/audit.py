"""`kcr audit verify`: check that an MCP server's audit log is whole and unaltered."""

from pathlib import Path

import click

from kcr.mcp.gate.audit_verify import verify_file


@click.group()
def audit() -> None:
    """Inspect the audit logs `kcr mcp --audit-log` writes."""


@audit.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--head",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The chain head file; default: LOG.head, written next to the log.",
)
def verify(log: Path, head: Path | None) -> None:
    """Recompute every record's hash and chain link, and compare each chain's end with
    the head the server left: a removed, altered or truncated record fails (exit 1)."""
    result = verify_file(log, head)
    if not result.intact:
        for problem in result.problems:
            click.echo(problem, err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"{log}: {result.records} record(s) in {len(result.chains)} chain(s), intact")
