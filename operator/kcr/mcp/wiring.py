"""From command-line settings to a running server's parts: Kafka, Kubernetes, identity.

Kafka comes from ``--kafka-bootstrap``, from a KafkaCluster manifest (``--cluster-file``)
or from a KafkaCluster resource; the last two also give the cluster's policy, its
ownership map and the Secrets holding its credentials.

A read-only assistant needs only Kafka: without a Kubernetes API the tools that read it
(change requests, deployments) are not offered, and drafts come back as YAML for a pull
request, with a notice on stderr, instead of failing.
"""

import getpass
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from mcp.server.auth.provider import TokenVerifier
from pydantic import ValidationError

from kcr.kafka import KafkaPort, KafkaPortError
from kcr.kafka.connect import open_kafka
from kcr.kafka.credentials import Credentials, resolve_credentials
from kcr.kafka.settings import ClientSettings
from kcr.kube.errors import KubeError
from kcr.mcp.broker_metrics import DEFAULT_LOG_DIR_MOUNTPOINT
from kcr.mcp.cluster import ClusterContext
from kcr.mcp.connect import ConnectClient, ConnectPort
from kcr.mcp.diagnosis import Thresholds
from kcr.mcp.drafts import DraftSink, KubeDraftSink, YamlDraftSink
from kcr.mcp.gate.access_file import AccessFile, AccessFileError, load_access_file
from kcr.mcp.gate.audit import AuditSink, JsonLinesSink, LogSink
from kcr.mcp.gate.auth import (
    DEFAULT_AUDIENCE,
    FirstAccepting,
    TokenFileVerifier,
    TokenReviewVerifier,
)
from kcr.mcp.gate.identity import Caller, Role, Scope
from kcr.mcp.gate.metrics import ToolMetrics
from kcr.mcp.gate.oidc import JwksCache, OidcSettings, OidcVerifier
from kcr.mcp.gate.ratelimit import RateLimits
from kcr.mcp.gate.shared_ratelimit import LeaseBuckets, SharedRateLimiter
from kcr.mcp.incidents import IncidentError, IncidentLibrary
from kcr.mcp.kafka_load import KafkaRequestMeter
from kcr.mcp.kube import KubePort
from kcr.mcp.prometheus import PrometheusClient, PrometheusPort
from kcr.mcp.runbooks import RunbookLibrary
from kcr.mcp.sampler import DEFAULT_MAX_REQUESTS_PER_MINUTE, GroupSampler, utc_now
from kcr.mcp.schemas import SchemaRegistryClient
from kcr.mcp.server import KcrServer, ServerOptions, build_server
from kcr.mcp.services import Services
from kcr.mcp.shared_sampler import SharedSampling, shared_sampling
from kcr.mcp.tools.registry import tool_names
from kcr.model import ClusterPolicy, KafkaCluster, KafkaClusterSpec, Storage, explain
from kcr.model.cluster import SecretKeyRef

DEFAULT_CLUSTER_NAME = "default"

log = logging.getLogger(__name__)


class SetupError(Exception):
    """The server cannot start as configured; the message says which flag to change."""


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class McpSettings:
    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_hosts: tuple[str, ...] = ()
    kafka_bootstrap: str | None = None
    cluster: str | None = None
    namespace: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    drafts: str = "kube"
    cluster_file: Path | None = None
    token_file: Path | None = None
    token_review: bool = False
    token_audience: str = DEFAULT_AUDIENCE
    oidc_issuer: str | None = None
    oidc_username_claim: str = "sub"
    oidc_username_prefix: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_groups_prefix: str = ""
    oidc_jwks_url: str | None = None
    public_url: str | None = None
    principal: str | None = None
    kubernetes_user: str | None = None
    roles: tuple[Role, ...] = (Role.VIEWER,)
    tenant: str = ""
    topic_prefixes: tuple[str, ...] = ("*",)
    group_prefixes: tuple[str, ...] = ("*",)
    audit_log: Path | None = None
    audit_sync_reads: bool = False
    """Answered reads wait for their record's sync to disk too (drafts and refusals always do)."""
    runbooks_dir: Path | None = None
    metrics_port: int | None = None
    rate_per_minute: float = 120.0
    rate_burst: int = 30
    rate_limit_store: str = "memory"
    """``memory``: each process counts its own calls; ``kubernetes``: Leases every replica
    shares."""
    sample_interval: float = 15.0
    sample_max_requests: float = DEFAULT_MAX_REQUESTS_PER_MINUTE
    sample_store: str = "memory"
    """``memory``: each process samples on its own; ``kubernetes``: the replica holding a
    Lease samples and the others read its rounds from a ConfigMap."""
    sample_lease_seconds: float = 30.0
    kafka_timeout: float = 10.0
    connect_url: str | None = None
    prometheus_url: str | None = None
    log_dir_mountpoint: str = DEFAULT_LOG_DIR_MOUNTPOINT
    disk_pressure_at: float = 0.85
    incidents_dir: Path | None = None
    schema_registry_url: str | None = None


@dataclass
class Assembled:
    server: KcrServer
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()


def check_exposure(settings: McpSettings) -> None:
    """Fail closed: a listener beyond loopback must name the Host values clients use.

    Without them the SDK turns its DNS-rebinding protection off for non-loopback binds,
    and a web page could then reach the server through a browser on the same network.
    """
    if settings.transport != "http" or settings.allowed_hosts:
        return
    if settings.host not in LOOPBACK_HOSTS:
        raise SetupError(
            f"--host {settings.host} listens beyond loopback: give --allowed-host with each "
            "Host header value clients use (for example kcr-mcp.kcr-system.svc:8000), so "
            "requests naming any other host are refused"
        )


async def assemble(settings: McpSettings) -> Assembled:
    """The server and what to close after it; what was opened before a failure is closed."""
    closers: list[Callable[[], Awaitable[None]]] = []
    try:
        return await _assemble(settings, closers)
    except BaseException:
        for close in reversed(closers):
            await close()
        raise


async def _assemble(
    settings: McpSettings, closers: list[Callable[[], Awaitable[None]]]
) -> Assembled:
    check_exposure(settings)
    thresholds = _thresholds(settings)
    access = _access(settings)
    local_caller = _local_caller(settings, access) if settings.transport == "stdio" else None
    kube = _kube(settings)
    if kube is not None:
        closers.append(kube.close)
    shared_limiter = _shared_limiter(settings, kube)
    cluster_name, cluster = (
        _cluster_from_file(settings.cluster_file)
        if settings.cluster_file is not None
        else await _cluster(settings, kube)
    )
    read, draft = tool_names()
    metrics = ToolMetrics(read | draft)
    kafka = await _kafka(settings, cluster, kube, KafkaRequestMeter(metrics.registry))
    closers.append(kafka.close)
    namespace = settings.namespace or (kube.namespace if kube else "default")
    services = Services(
        kafka=kafka,
        cluster=ClusterContext(
            name=cluster_name,
            namespace=namespace,
            policy=cluster.policy if cluster else ClusterPolicy(),
            ownership=tuple(cluster.ownership) if cluster else (),
            storage=cluster.storage if cluster else Storage.LOCAL,
            strimzi=cluster.managed_by.strimzi if cluster and cluster.managed_by else None,
        ),
        drafts=_drafts(settings, kube),
        runbooks=_runbooks(settings),
        sampler=GroupSampler(
            kafka,
            interval=settings.sample_interval,
            max_requests_per_minute=settings.sample_max_requests,
        ),
        kube=kube,
        connect=_connect(settings, cluster),
        prometheus=_prometheus(settings, cluster),
        thresholds=thresholds,
        incidents=_incidents(settings),
        schemas=_schemas(settings, cluster),
    )
    for client in (services.connect, services.prometheus, services.schemas):
        if client is not None:
            closers.append(client.close)
    audit = _audit(settings)
    closers.append(_closer(audit))
    if settings.metrics_port is not None:
        metrics.serve(settings.host, settings.metrics_port)
    options = ServerOptions(
        audit=audit,
        audit_sync_reads=settings.audit_sync_reads,
        local_caller=local_caller,
        rate_limits=RateLimits(per_minute=settings.rate_per_minute, burst=settings.rate_burst),
        shared_limiter=shared_limiter,
        token_verifier=_verifier(settings, access, kube),
        public_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        authorization_server=settings.oidc_issuer,
        background_sampling=settings.sample_interval > 0,
        shared_sampling=_shared_sampling(settings, kube, services, cluster_name, metrics),
        metrics=metrics,
    )
    return Assembled(server=build_server(services, options), closers=closers)


def _shared_limiter(settings: McpSettings, kube: KubePort | None) -> SharedRateLimiter | None:
    if settings.rate_limit_store == "memory":
        return None
    from kcr.mcp.kube_client import KubernetesApi  # noqa: PLC0415 (slow to import)

    if not isinstance(kube, KubernetesApi):
        raise SetupError(
            "--rate-limit-store kubernetes keeps the limits in Leases: give a kubeconfig or "
            "run in a cluster, or use --rate-limit-store memory"
        )
    limits = RateLimits(per_minute=settings.rate_per_minute, burst=settings.rate_burst)
    refill = math.ceil(limits.burst * 60.0 / limits.per_minute)
    store = LeaseBuckets(kube.client, kube.namespace, refill)
    return SharedRateLimiter(store, limits)


def _shared_sampling(
    settings: McpSettings,
    kube: KubePort | None,
    services: Services,
    cluster_name: str,
    metrics: ToolMetrics,
) -> SharedSampling | None:
    if settings.sample_store == "memory":
        return None
    from kcr.mcp.kube_client import KubernetesApi  # noqa: PLC0415 (slow to import)

    if not isinstance(kube, KubernetesApi):
        raise SetupError(
            "--sample-store kubernetes elects the sampling replica with a Lease: give a "
            "kubeconfig or run in a cluster, or use --sample-store memory"
        )
    return shared_sampling(
        services.sampler,
        kube.client,
        kube.namespace,
        cluster_name,
        lease_seconds=settings.sample_lease_seconds,
        registry=metrics.registry,
    )


def _closer(audit: AuditSink) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        audit.close()

    return close


def _access(settings: McpSettings) -> AccessFile | None:
    if settings.token_file is None:
        return None
    try:
        return load_access_file(settings.token_file)
    except AccessFileError as error:
        raise SetupError(str(error)) from None


def _kube(settings: McpSettings) -> KubePort | None:
    """Required for TokenReview, or Kafka from a KafkaCluster resource; optional otherwise."""
    from kcr.mcp.kube_client import open_kube  # noqa: PLC0415 (the client is slow to import)

    needed = []
    if settings.token_review:
        needed.append("--token-review")
    if settings.kafka_bootstrap is None and settings.cluster_file is None:
        needed.append("a KafkaCluster resource (no --kafka-bootstrap or --cluster-file)")
    try:
        return open_kube(settings.kubeconfig, settings.context, settings.namespace)
    except KubeError as error:
        if settings.kubeconfig is not None:  # named on purpose: never silently ignored
            raise SetupError(str(error)) from None
        if needed:
            raise SetupError(
                f"the Kubernetes API is needed for {', '.join(needed)}: {error}"
            ) from None
        log.info("running without Kubernetes", extra={"reason": str(error)})
        return None


async def _cluster(
    settings: McpSettings, kube: KubePort | None
) -> tuple[str, KafkaClusterSpec | None]:
    if kube is None:
        return settings.cluster or DEFAULT_CLUSTER_NAME, None
    try:
        if settings.cluster is not None:
            found = await kube.get_kafka_cluster(settings.cluster)
            documents = [found] if found is not None else []
        else:
            documents = await kube.list_kafka_clusters()
    except KubeError as error:
        if settings.kafka_bootstrap is None:
            raise SetupError(f"cannot read KafkaCluster resources: {error}") from None
        log.info("no KafkaCluster read", extra={"reason": str(error)})
        documents = []
    if not documents:
        if settings.kafka_bootstrap is None:
            named = f" named {settings.cluster}" if settings.cluster else ""
            raise SetupError(
                f"no KafkaCluster{named} in namespace {kube.namespace}; create one or pass "
                "--kafka-bootstrap"
            )
        return settings.cluster or DEFAULT_CLUSTER_NAME, None
    if len(documents) > 1:
        names = ", ".join(str(d.get("metadata", {}).get("name")) for d in documents)
        raise SetupError(f"several KafkaClusters ({names}); choose one with --cluster")
    return _parse_cluster(documents[0])


def _cluster_from_file(path: Path) -> tuple[str, KafkaClusterSpec]:
    """A KafkaCluster manifest on disk: the same settings, without asking the API server."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise SetupError(f"cannot read --cluster-file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise SetupError(f"--cluster-file {path} is not valid YAML: {error}") from None
    if not isinstance(document, dict) or document.get("kind") != "KafkaCluster":
        raise SetupError(f"--cluster-file {path} must hold one KafkaCluster (kind: KafkaCluster)")
    return _parse_cluster(document, str(path))


def _parse_cluster(document: dict[str, Any], where: str = "") -> tuple[str, KafkaClusterSpec]:
    body = {k: v for k, v in document.items() if k != "status"}
    try:
        cluster = KafkaCluster.model_validate(body)
    except ValidationError as error:
        prefix = f"{where}: " if where else ""
        raise SetupError(f"{prefix}invalid KafkaCluster: " + "; ".join(explain(error))) from None
    return cluster.metadata.name, cluster.spec


async def _kafka(
    settings: McpSettings,
    spec: KafkaClusterSpec | None,
    kube: KubePort | None,
    meter: KafkaRequestMeter,
) -> KafkaPort:
    client = ClientSettings(request_timeout=settings.kafka_timeout, client_id="kcr-mcp")
    counted = meter.client_config()
    if spec is None:
        assert settings.kafka_bootstrap is not None
        return open_kafka(
            settings.kafka_bootstrap, settings=client, extra_config=counted, on_request=meter.count
        )
    if settings.kafka_bootstrap is not None:
        spec = spec.model_copy(update={"bootstrap_servers": settings.kafka_bootstrap})
    credentials = Credentials()
    if kube is None and _names_secrets(spec):
        raise SetupError(
            "the KafkaCluster names Secrets for TLS or SASL, and reading them needs the "
            "Kubernetes API: give a kubeconfig, or a cluster without Secret references"
        )
    if kube is not None and (spec.tls is not None or spec.sasl is not None):

        async def read(ref: SecretKeyRef) -> str:
            return await kube.read_secret(ref.name, ref.key)

        try:
            credentials = await resolve_credentials(spec, read)
        except (KubeError, KafkaPortError) as error:
            raise SetupError(f"cannot read the KafkaCluster's credentials: {error}") from None
    return open_kafka(spec, credentials, client, extra_config=counted, on_request=meter.count)


def _names_secrets(spec: KafkaClusterSpec) -> bool:
    tls = spec.tls
    return spec.sasl is not None or (
        tls is not None and any(r is not None for r in (tls.ca, tls.certificate, tls.key))
    )


def _connect(settings: McpSettings, cluster: KafkaClusterSpec | None) -> ConnectPort | None:
    """The flag wins over the KafkaCluster's ``connectUrl``; without either, no Connect."""
    url = settings.connect_url or (cluster.connect_url if cluster else None)
    if url is None:
        return None
    return ConnectClient(url, clock=utc_now, timeout=settings.kafka_timeout)


def _thresholds(settings: McpSettings) -> Thresholds:
    try:
        return Thresholds(
            log_dir_mountpoint=settings.log_dir_mountpoint,
            disk_pressure_used_fraction=settings.disk_pressure_at,
        )
    except ValidationError as error:
        flags = {"log_dir_mountpoint": "--log-dir-mountpoint"}
        lines = []
        for line in explain(error):
            name, _, rule = line.partition(": ")
            lines.append(f"{flags.get(name, '--disk-pressure-at')}: {rule}")
        raise SetupError("; ".join(lines)) from None


def _prometheus(settings: McpSettings, cluster: KafkaClusterSpec | None) -> PrometheusPort | None:
    """The flag wins over the KafkaCluster's ``prometheusUrl``; without either, no metrics."""
    url = settings.prometheus_url or (cluster.prometheus_url if cluster else None)
    return PrometheusClient(url, timeout=settings.kafka_timeout) if url else None


def _schemas(
    settings: McpSettings, cluster: KafkaClusterSpec | None
) -> SchemaRegistryClient | None:
    url = settings.schema_registry_url or (cluster.schema_registry_url if cluster else None)
    return SchemaRegistryClient(url, timeout=settings.kafka_timeout) if url else None


def _incidents(settings: McpSettings) -> IncidentLibrary:
    try:
        return IncidentLibrary.load(settings.incidents_dir)
    except (OSError, IncidentError) as error:
        raise SetupError(f"cannot load incident notes: {error}") from None


def _drafts(settings: McpSettings, kube: KubePort | None) -> DraftSink:
    if settings.drafts == "yaml":
        return YamlDraftSink()
    if kube is None:
        log.warning(
            "no Kubernetes API: drafts come back as YAML for a pull request (as with "
            "--drafts yaml); give a kubeconfig to create KafkaChangeRequests"
        )
        return YamlDraftSink()
    return KubeDraftSink(kube)


def _runbooks(settings: McpSettings) -> RunbookLibrary:
    try:
        return RunbookLibrary.load(settings.runbooks_dir)
    except (OSError, ValueError) as error:
        raise SetupError(f"cannot load runbooks: {error}") from None


def _audit(settings: McpSettings) -> AuditSink:
    if settings.audit_log is None:
        return LogSink()
    try:
        return JsonLinesSink.to_file(settings.audit_log)
    except OSError as error:
        raise SetupError(f"cannot open the audit log {settings.audit_log}: {error}") from None


def _local_caller(settings: McpSettings, access: AccessFile | None) -> Caller:
    """stdio: the configured principal (from the access file if given) or the local user."""
    principal = settings.principal or getpass.getuser()
    if settings.principal is not None and access is not None:
        caller = access.caller_named(settings.principal)
        if caller is None:
            raise SetupError(f"principal {settings.principal} is not in the access file")
        return caller
    if Role.DRAFTER in settings.roles and not settings.kubernetes_user:
        raise SetupError(
            f"--role drafter needs --kubernetes-user: the Kubernetes user name {principal} is "
            f"(for example oidc:{principal}); drafts record it as the requester, who may not "
            "approve them"
        )
    try:
        return Caller(
            principal=principal,
            roles=list(settings.roles),
            tenant=settings.tenant,
            scope=Scope(
                topic_prefixes=list(settings.topic_prefixes),
                group_prefixes=list(settings.group_prefixes),
            ),
            kubernetes_user=settings.kubernetes_user,
        )
    except ValidationError as error:
        raise SetupError("invalid identity: " + "; ".join(explain(error))) from None


def _verifier(
    settings: McpSettings, access: AccessFile | None, kube: KubePort | None
) -> TokenVerifier | None:
    """Every way in that is configured, side by side; none configured refuses to start."""
    if settings.transport != "http":
        return None
    listed = TokenFileVerifier(access) if access is not None and access.tokens else None
    verifiers: list[TokenVerifier] = []
    if (settings.token_review or settings.oidc_issuer) and not settings.token_audience.strip():
        raise SetupError("--token-audience must name the audience clients' tokens carry")
    if listed is not None and not settings.token_review:
        verifiers.append(listed)
    if settings.oidc_issuer:
        verifiers.append(_oidc(settings, access))
    if settings.token_review:
        assert kube is not None
        verifiers.append(
            TokenReviewVerifier(
                kube, access or AccessFile(), audience=settings.token_audience, fallback=listed
            )
        )
    if not verifiers:
        if access is None:
            raise SetupError(
                "--transport http needs --token-file, --oidc-issuer or --token-review: "
                "no token, no call"
            )
        return TokenFileVerifier(access)
    return verifiers[0] if len(verifiers) == 1 else FirstAccepting(verifiers)


def _oidc(settings: McpSettings, access: AccessFile | None) -> OidcVerifier:
    assert settings.oidc_issuer is not None
    if access is None or not access.subjects:
        raise SetupError(
            "--oidc-issuer needs --token-file with subjects: the access file grants roles and "
            "scope to the Kubernetes user or groups a token names"
        )
    oidc = OidcSettings(
        issuer=settings.oidc_issuer,
        audience=settings.token_audience,
        username_claim=settings.oidc_username_claim,
        username_prefix=settings.oidc_username_prefix,
        groups_claim=settings.oidc_groups_claim,
        groups_prefix=settings.oidc_groups_prefix,
        jwks_url=settings.oidc_jwks_url,
    )
    return OidcVerifier(oidc, access, JwksCache(oidc))
