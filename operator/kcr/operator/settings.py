"""How one operator process runs: what it watches, where it listens, how it paces itself.

The defaults suit a cluster; tests shorten the intervals. kopf's own settings are derived
here in one place, so every kopf pitfall we guard against is visible together.
"""

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import kopf

from kcr.engine import EngineSettings

FINALIZER = "kcr.dev/operator"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclass(frozen=True)
class OperatorConfig:
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    kubeconfig: Path | None = None
    in_cluster: bool | None = None
    """True: the service account; False: a kubeconfig; None: in-cluster when available."""
    listen_address: str = "0.0.0.0"  # noqa: S104 (a pod's ports must be reachable)
    metrics_port: int | None = 9090
    health_port: int | None = 8080
    peering: str | None = None
    priority: int = 0
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON
    poll_seconds: float = 30.0
    """Longest sleep of a waiting request; annotations and status changes wake it sooner."""
    engine: EngineSettings = field(default_factory=EngineSettings)
    scan_cluster: bool = True
    """Watch CRDs and namespaces for changes (off for API servers that cannot list them)."""
    allowed_signers: Path | None = None
    """git allowed_signers file: whose SSH signatures prove approvals carried in git."""
    error_backoff_seconds: float = 15.0
    """Wait before restarting a request's loop after an unexpected error."""
    cancellation_seconds: float = 60.0
    """How long a stopping operator lets a running step finish before cancelling it."""

    @property
    def standalone(self) -> bool:
        return self.peering is None

    @property
    def health_url(self) -> str | None:
        if self.health_port is None:
            return None
        return f"http://{self.listen_address}:{self.health_port}/healthz"


def configure_kopf(settings: kopf.OperatorSettings, config: OperatorConfig) -> None:
    settings.posting.loggers = False  # Events come from transitions only, with kcr's reasons
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = "kcr-operator"
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kcr.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="kcr.dev", key="last-handled-configuration"
    )
    settings.peering.standalone = config.standalone
    settings.peering.priority = config.priority
    if config.peering is not None:
        settings.peering.name = config.peering
        settings.peering.mandatory = True
    settings.peering.clusterwide = config.all_namespaces
    settings.scanning.disabled = not config.scan_cluster
    settings.background.cancellation_polling = 1.0
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 60
