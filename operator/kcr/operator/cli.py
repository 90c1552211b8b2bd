"""``kcr operator``: run the operator that executes approved KafkaChangeRequests."""

import asyncio
import random
from pathlib import Path

import click

from kcr.operator.settings import LogFormat, OperatorConfig

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
PRIORITY_RANGE = 10_000


@click.command(name="operator", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Kubeconfig file to log in with. Without it (and without --in-cluster): the pod's "
    "service account when running in a cluster, else $KUBECONFIG or ~/.kube/config.",
)
@click.option(
    "--in-cluster",
    is_flag=True,
    help="Log in with the pod's service account only (fail instead of using a kubeconfig).",
)
@click.option(
    "--namespace",
    "-n",
    "namespaces",
    multiple=True,
    metavar="NAMESPACE",
    help="Watch KafkaChangeRequests in this namespace. Repeat for several namespaces.",
)
@click.option(
    "--all-namespaces",
    "-A",
    is_flag=True,
    help="Watch KafkaChangeRequests in every namespace (needs cluster-wide RBAC).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=9090,
    show_default=True,
    help="Serve Prometheus metrics on http://<listen-address>:PORT/metrics; 0 turns it off.",
)
@click.option(
    "--health-port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Serve the liveness probe on http://<listen-address>:PORT/healthz; 0 turns it off.",
)
@click.option(
    "--listen-address",
    default="0.0.0.0",  # noqa: S104 (probes and scrapes come from outside the pod)
    show_default=True,
    help="Address the metrics and health endpoints bind to.",
)
@click.option(
    "--peering",
    metavar="NAME",
    help="Run highly available: join the kopf peering object NAME (KopfPeering, or "
    "ClusterKopfPeering with --all-namespaces); only the replica with the highest priority "
    "acts, the others wait.",
)
@click.option(
    "--standalone",
    is_flag=True,
    help="Run without peering: this replica acts alone (the default without --peering).",
)
@click.option(
    "--priority",
    type=int,
    default=None,
    help="Peering priority of this replica; by default a random number, so that replicas "
    "of one Deployment differ.",
)
@click.option(
    "--no-cluster-scan",
    is_flag=True,
    help="Do not watch CRDs and namespaces for changes, for RBAC or API servers that do "
    "not allow listing them; the namespaces given are then assumed to exist.",
)
@click.option(
    "--allowed-signers",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="git allowed_signers file (principal = Kubernetes user name, then the SSH public "
    "key) whose signatures prove approvals carried in git; mount it from a ConfigMap only "
    "platform admins may change. Without it, signed approvals count as none.",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Lowest level of log lines written to stderr.",
)
@click.option(
    "--log-format",
    type=click.Choice([f.value for f in LogFormat]),
    default=LogFormat.JSON.value,
    show_default=True,
    help="json: one JSON object per line with the request's namespace, name and correlation "
    "id; text: for people at a terminal.",
)
def command(  # noqa: PLR0917 (click passes each option by keyword)
    kubeconfig: Path | None,
    in_cluster: bool,
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    metrics_port: int,
    health_port: int,
    listen_address: str,
    peering: str | None,
    standalone: bool,
    priority: int | None,
    no_cluster_scan: bool,
    allowed_signers: Path | None,
    log_level: str,
    log_format: str,
) -> None:
    """Run the kcr operator: validate KafkaChangeRequests, wait for approval, and execute
    approved ones stage by stage with health gates and rollback.

    Give the namespaces to watch (--namespace, repeatable) or --all-namespaces. Stops on
    SIGINT or SIGTERM, letting a running step finish first.
    """
    if bool(namespaces) == all_namespaces:
        raise click.UsageError("give --namespace (one or more) or --all-namespaces, not both")
    if peering and standalone:
        raise click.UsageError("--peering and --standalone exclude each other")
    if kubeconfig and in_cluster:
        raise click.UsageError("--kubeconfig and --in-cluster exclude each other")
    from kcr.kube.errors import KubeError  # noqa: PLC0415
    from kcr.operator.app import build_runtime, run_operator  # noqa: PLC0415 (kopf is heavy)
    from kcr.operator.login import LoginError, connection  # noqa: PLC0415
    from kcr.operator.logs import configure_logging  # noqa: PLC0415

    config = OperatorConfig(
        namespaces=namespaces,
        all_namespaces=all_namespaces,
        kubeconfig=kubeconfig,
        in_cluster=True if in_cluster else (False if kubeconfig else None),
        listen_address=listen_address,
        metrics_port=metrics_port or None,
        health_port=health_port or None,
        peering=None if standalone else peering,
        priority=priority if priority is not None else random.randrange(PRIORITY_RANGE),  # noqa: S311
        log_level=log_level.upper(),
        log_format=LogFormat(log_format),
        scan_cluster=not no_cluster_scan,
        allowed_signers=allowed_signers,
    )
    configure_logging(config.log_level, config.log_format)
    try:  # once here, so that unusable credentials are one line, not a retrying login
        connection(config.kubeconfig, config.in_cluster)
        runtime = build_runtime(config)
    except (LoginError, KubeError) as error:
        raise click.ClickException(str(error)) from None
    asyncio.run(run_operator(runtime))
