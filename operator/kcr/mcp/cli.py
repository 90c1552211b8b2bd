"""``kcr mcp``: serve the MCP server over stdio (a local assistant) or streamable HTTP.

Imports stay inside the command so ``kcr --help`` does not load the SDK, Kafka or
Kubernetes clients.
"""

import asyncio
import gc
from pathlib import Path
from typing import Any

import click

ROLES = ("viewer", "drafter")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    help="stdio for a local assistant (identity: the local user or --principal); http for "
    "streamable HTTP, where every request needs a bearer token.",
)
@click.option("--host", default="127.0.0.1", help="Address the HTTP and metrics listeners bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, help="HTTP port (/mcp).")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Host header value clients use to reach /mcp (repeatable); others are refused. "
    "Required when --host is not a loopback address, so DNS-rebinding protection stays on.",
)
@click.option(
    "--kafka-bootstrap",
    envvar="KCR_KAFKA_BOOTSTRAP",
    help="host:port[,host:port] of the Kafka cluster [env KCR_KAFKA_BOOTSTRAP]. Without it, "
    "the KafkaCluster resource (--cluster) gives bootstrap servers and credentials.",
)
@click.option(
    "--cluster",
    envvar="KCR_CLUSTER",
    help="Name of the KafkaCluster resource: drafts name it, and its policy, ownership map "
    "and credentials apply. Default: the only KafkaCluster in the namespace.",
)
@click.option(
    "--cluster-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A KafkaCluster manifest (YAML) to use instead of the resource: bootstrap servers, "
    "ownership map and policy, with no Kubernetes API needed (TLS or SASL Secrets still "
    "need one). --kafka-bootstrap overrides its bootstrap servers.",
)
@click.option(
    "--namespace",
    help="Namespace of KafkaClusters and drafted KafkaChangeRequests. Default: the "
    "kubeconfig context's namespace.",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    help="Kubeconfig to use "
    "(default: KUBECONFIG, ~/.kube/config, or the in-cluster service account).",
)
@click.option("--context", "kube_context", help="Kubeconfig context to use.")
@click.option(
    "--drafts",
    type=click.Choice(["kube", "yaml"]),
    default="kube",
    help="kube: create KafkaChangeRequests through the Kubernetes API (without one, drafts "
    "fall back to YAML and say so on stderr); yaml: return the YAML for a GitOps pull "
    "request and create nothing.",
)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Access file (YAML or JSON): bearer tokens (by sha256) and Kubernetes users or "
    "groups, each mapped to a principal, roles and tenant scope (topic and group prefixes).",
)
@click.option(
    "--token-review",
    is_flag=True,
    help="Verify HTTP bearer tokens with the Kubernetes TokenReview API; the access file's "
    "subjects map the user or its groups to roles and scope.",
)
@click.option(
    "--token-audience",
    default="kcr-mcp",
    help="The audience tokens must be issued for: with --token-review, spec.audiences of the "
    "TokenReview (and required back in status.audiences): give clients a projected "
    "service account token with this audience; tokens for the API server are refused. "
    "With --oidc-issuer, the aud claim JWTs must carry.",
)
@click.option(
    "--oidc-issuer",
    metavar="URL",
    help="Accept JWT access tokens from this OIDC issuer: signature checked against the keys "
    "of its discovery document's jwks_uri, and iss, aud (--token-audience) and exp checked. "
    "The caller's name and groups follow the API server's --oidc-* rules below; the access "
    "file's subjects grant roles and scope, narrowed to the token's scopes kcr:read and "
    "kcr:draft. Serves the protected resource metadata (/.well-known/oauth-protected-resource).",
)
@click.option(
    "--oidc-username-claim",
    default="sub",
    help="The claim holding the user name (as the API server's --oidc-username-claim).",
)
@click.option(
    "--oidc-username-prefix",
    help="Prefix for the user name (as the API server's --oidc-username-prefix): unset means "
    "'<issuer>#' unless the claim is email; '-' means none. Must match the API server's, so a "
    "drafter's name is the one the approval rules compare.",
)
@click.option(
    "--oidc-groups-claim", default="groups", help="The claim holding the caller's groups."
)
@click.option("--oidc-groups-prefix", default="", help="Prefix for every group name.")
@click.option(
    "--oidc-jwks-url",
    metavar="URL",
    help="Where the issuer's signing keys are, when its discovery document is not served.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL clients reach this server at, without /mcp (behind an ingress); names the "
    "resource in the protected resource metadata. Default: http://HOST:PORT.",
)
@click.option(
    "--principal",
    help="stdio identity instead of the local user; looked up in --token-file when given.",
)
@click.option(
    "--kubernetes-user",
    help="stdio: the Kubernetes user name you are (for example oidc:alice), recorded as the "
    "requester of your drafts so that you cannot approve them; required with --role drafter.",
)
@click.option(
    "--role",
    "roles",
    type=click.Choice(ROLES),
    multiple=True,
    default=["viewer"],
    help="stdio roles (repeatable): viewer reads, drafter also drafts change requests.",
)
@click.option("--tenant", default="", help="stdio tenant recorded on drafts.")
@click.option(
    "--topic-prefix",
    "topic_prefixes",
    multiple=True,
    default=["*"],
    help="stdio scope: topic name prefixes the caller may see and draft for ('*' = all).",
)
@click.option(
    "--group-prefix",
    "group_prefixes",
    multiple=True,
    default=["*"],
    help="stdio scope: consumer group prefixes the caller may see and draft for.",
)
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per call (principal, tool, inputs, outcome, duration, "
    "correlation id). Default: audit records go to the JSON log on stderr.",
)
@click.option(
    "--audit-sync-reads/--no-audit-sync-reads",
    default=False,
    show_default=True,
    help="Hold an answered read's reply until its --audit-log record is on disk, as a "
    "draft's or a refused call's always is. Default: the record is written before the reply "
    "(a crash of the server keeps it) and synced to disk within 50 ms.",
)
@click.option(
    "--runbooks-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="More runbooks (*.md); a file named like a shipped runbook replaces it.",
)
@click.option(
    "--schema-registry-url",
    help="A Confluent-compatible schema registry (Apicurio: http://host:8080/apis/ccompat/v7), "
    "for schema versions; default: the KafkaCluster's schemaRegistryUrl.",
)
@click.option(
    "--incidents-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Notes on past incidents (*.md with front matter: time, services, topics, kinds, "
    "resolution), e.g. a mounted ConfigMap; searchable, and linked from matching findings.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve Prometheus metrics (calls and latency per tool and outcome) on this port.",
)
@click.option(
    "--rate-limit",
    "rate_per_minute",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    help="Sustained tool calls per minute allowed per principal.",
)
@click.option(
    "--rate-burst",
    type=click.IntRange(min=1),
    default=30,
    help="Tool calls a principal may make at once before the rate limit applies.",
)
@click.option(
    "--rate-limit-store",
    type=click.Choice(["memory", "kubernetes"]),
    default="memory",
    help="Where the rate limits are counted: memory (this process) or kubernetes (one Lease "
    "per principal in --namespace, shared by every replica behind one Service).",
)
@click.option(
    "--sample-interval",
    type=click.FloatRange(min=0),
    default=15.0,
    help="Seconds between samples of consumer group state (for recent_rebalances and "
    "trends); 0 samples only when a tool asks.",
)
@click.option(
    "--connect-url",
    help="Kafka Connect's REST API (http://host:8083), for connector and task states; "
    "default: the KafkaCluster's connectUrl, else Connect is not read.",
)
@click.option(
    "--prometheus-url",
    help="The cluster's Prometheus (http://host:9090), for broker metrics; default: the "
    "KafkaCluster's prometheusUrl, else broker metrics are not read.",
)
@click.option(
    "--log-dir-mountpoint",
    default="/var/lib/kafka",
    help="The mount point of the brokers' log dirs, as the node exporter on their hosts "
    "labels node_filesystem_* series: the disk pressure finding reads its filesystem.",
)
@click.option(
    "--disk-pressure-at",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=0.85,
    help="The used fraction of a broker's log dir filesystem at which explain_current_state "
    "reports disk pressure.",
)
@click.option(
    "--sample-max-requests",
    type=click.FloatRange(min=1),
    default=3000.0,
    help="Most requests per minute the background sampler sends to the brokers; with many "
    "groups it samples less often than --sample-interval (four requests per group).",
)
@click.option(
    "--sample-store",
    type=click.Choice(["memory", "kubernetes"]),
    default="memory",
    help="Who samples consumer groups: memory (this process, on its own) or kubernetes (the "
    "replica holding a Lease in --namespace samples and writes each round to a ConfigMap "
    "the other replicas read, so the brokers see one replica's --sample-max-requests).",
)
@click.option(
    "--sample-lease-seconds",
    type=click.FloatRange(min=3, max=600),
    default=30.0,
    help="With --sample-store kubernetes: seconds without renewal after which another "
    "replica takes over the sampling (renewed every third of it).",
)
@click.option(
    "--kafka-timeout",
    type=click.FloatRange(min=0.1, max=300),
    default=10.0,
    help="Seconds one Kafka request may take.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    default="INFO",
    help="JSON logs go to stderr.",
)
def command(**options: Any) -> None:
    """Serve kcr's MCP tools: read Kafka, explain what is wrong, draft change requests.

    A read-only assistant needs only Kafka: `kcr mcp --kafka-bootstrap host:9092` starts as
    a viewer with no kubeconfig; the tools that read Kubernetes (recent_deployments,
    list_change_requests, get_change_request) are then not offered.

    Nothing this server does changes Kafka: drafts become KafkaChangeRequests that people
    approve and the operator executes.
    """
    from kcr.mcp.gate.identity import Role  # noqa: PLC0415
    from kcr.mcp.logs import configure_logging  # noqa: PLC0415
    from kcr.mcp.wiring import McpSettings  # noqa: PLC0415

    configure_logging(options.pop("log_level"))
    settings = McpSettings(
        transport=options["transport"],
        host=options["host"],
        port=options["port"],
        allowed_hosts=tuple(options["allowed_hosts"]),
        kafka_bootstrap=options["kafka_bootstrap"],
        cluster=options["cluster"],
        namespace=options["namespace"],
        kubeconfig=options["kubeconfig"],
        context=options["kube_context"],
        drafts=options["drafts"],
        cluster_file=options["cluster_file"],
        token_file=options["token_file"],
        token_review=options["token_review"],
        token_audience=options["token_audience"],
        oidc_issuer=options["oidc_issuer"],
        oidc_username_claim=options["oidc_username_claim"],
        oidc_username_prefix=options["oidc_username_prefix"],
        oidc_groups_claim=options["oidc_groups_claim"],
        oidc_groups_prefix=options["oidc_groups_prefix"],
        oidc_jwks_url=options["oidc_jwks_url"],
        public_url=options["public_url"],
        principal=options["principal"],
        kubernetes_user=options["kubernetes_user"],
        roles=tuple(Role(r) for r in options["roles"]),
        tenant=options["tenant"],
        topic_prefixes=tuple(options["topic_prefixes"]),
        group_prefixes=tuple(options["group_prefixes"]),
        audit_log=options["audit_log"],
        audit_sync_reads=options["audit_sync_reads"],
        runbooks_dir=options["runbooks_dir"],
        metrics_port=options["metrics_port"],
        rate_per_minute=options["rate_per_minute"],
        rate_burst=options["rate_burst"],
        rate_limit_store=options["rate_limit_store"],
        sample_interval=options["sample_interval"],
        sample_max_requests=options["sample_max_requests"],
        sample_store=options["sample_store"],
        sample_lease_seconds=options["sample_lease_seconds"],
        kafka_timeout=options["kafka_timeout"],
        connect_url=options["connect_url"],
        prometheus_url=options["prometheus_url"],
        log_dir_mountpoint=options["log_dir_mountpoint"],
        disk_pressure_at=options["disk_pressure_at"],
        incidents_dir=options["incidents_dir"],
        schema_registry_url=options["schema_registry_url"],
    )
    asyncio.run(_serve(settings))


async def _serve(settings: Any) -> None:
    from kcr.mcp.gate.http import http_app, uvicorn_server  # noqa: PLC0415
    from kcr.mcp.gate.ratelimit import RateLimits  # noqa: PLC0415
    from kcr.mcp.wiring import SetupError, assemble  # noqa: PLC0415

    try:
        assembled = await assemble(settings)
    except SetupError as error:
        raise click.ClickException(str(error)) from None
    # What is assembled lives as long as the server (modules, models, schemas, runbooks: a
    # few hundred thousand objects). Frozen, it is no longer walked by every full collection,
    # which a large lag report triggers once or more while it is built.
    gc.collect()
    gc.freeze()
    try:
        if settings.transport == "stdio":
            await assembled.server.mcp.run_stdio_async()
        else:
            limits = RateLimits(per_minute=settings.rate_per_minute, burst=settings.rate_burst)
            app = http_app(assembled.server, settings.host, settings.allowed_hosts, limits)
            await uvicorn_server(app, settings.host, settings.port).serve()
    finally:
        await assembled.close()
