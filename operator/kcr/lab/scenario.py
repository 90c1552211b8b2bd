"""What a lab scenario is, and the registry the runner reads them from.

A scenario builds one real incident on a cluster, hands the assistant a ticket (what a
person would report), says in code what a good answer is (:class:`Expectation`, fixed, not
tuned per run), and reads the broker back afterwards. A scenario is a module in
:mod:`kcr.lab.scenarios` whose class is decorated with :func:`register`; the runner finds
every such module by itself, so adding a scenario edits no runner code.
"""

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from kcr.model import Phase, Risk

if TYPE_CHECKING:
    from kcr.lab.context import LabContext
    from kcr.lab.verdict import FindingSeen


class Need:
    """What a scenario needs beyond a Kafka cluster; missing, it is skipped, saying why."""

    BROKER_CONTROL = "broker-control"
    """Killing and restarting brokers: only the embedded cluster, never a staging one."""
    METADATA_LOG = "metadata-log"
    """Reading the controller's metadata log to count writes: only the embedded cluster."""
    SCHEMA_REGISTRY = "schema-registry"
    CLIENT_USER = "client-user"
    """A second Kafka user the authorizer judges (a client, not the admin)."""
    OPERATOR_CONTROL = "operator-control"
    """Killing and restarting ``kcr operator`` (always there: the lab starts it)."""
    BROKER_METRICS = "broker-metrics"
    """A Prometheus scraping the brokers' metrics (the JMX exporter), which kcr reads."""


HEALTHY = ""
"""An expected cause of none: the subject is healthy before a drill."""
NO_CHANGE: None = None
"""An expected proposal of none: the answer is not a Kafka change."""


@dataclass(frozen=True)
class Expectation:
    """The answer a careful SRE would give, fixed in code for the scenario."""

    cause: str
    """The finding kind (``FindingKind`` value) that must be ranked first."""
    proposal: str | None
    """The change kind to draft, or None where the fix is not a Kafka change."""
    risk: Risk | None = None
    irreversible: bool = False
    outcomes: tuple[Phase, ...] = (Phase.SUCCEEDED,)
    """Phases the change may end in (Succeeded, or RolledBack by a gate)."""
    approve: bool = True
    """False where the reviewer must refuse what the draft flags (it is not run)."""


@dataclass(frozen=True)
class Ticket:
    """What a person tells the assistant: words, and the subject they name."""

    text: str
    topic: str | None = None
    group: str | None = None
    principal: str | None = None
    """A client reported refused or failing (``User:name``)."""
    operation: str | None = None
    requested: dict[str, Any] | None = None
    """A change the person asks for by name: draft tool and arguments (the assistant drafts
    it as asked, and kcr's review must flag what it would do)."""
    schema: str | None = None
    """A schema a producer failed to register, as the producer's log shows it."""


@dataclass
class Check:
    """One verdict criterion: a name, pass or fail, and what was seen."""

    name: str
    passed: bool
    detail: str


@dataclass
class ReadBack:
    """Broker state read after the run, by the scenario, as checks."""

    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, passed: bool, detail: str) -> None:
        self.checks.append(Check(name, passed, detail))


class Scenario(ABC):
    """One incident: build it, tell the ticket, read back, clean up."""

    name: ClassVar[str]
    title: ClassVar[str]
    expectation: ClassVar[Expectation]
    needs: ClassVar[frozenset[str]] = frozenset()
    order: ClassVar[int] = 50
    """Runs sort by it, then by name: drills that break brokers go last."""
    bake_seconds: ClassVar[int] = 4
    """The draft's bake between stages; short, as the lab's changes are small."""
    settle_seconds: ClassVar[float] = 0.0
    """Time the MCP server's sampler needs to see the incident before the assistant asks."""

    @abstractmethod
    async def build(self, lab: "LabContext") -> Ticket:
        """Make the real condition on the cluster; return what a person would report."""

    async def during_execution(self, lab: "LabContext", request: str) -> None:
        """Called once the change is approved (a drill breaks something here)."""
        return None

    async def after_review(self, lab: "LabContext", request: str) -> None:
        """Called after the review, approved or not (a retry of what was refused)."""
        return None

    @abstractmethod
    async def read_back(self, lab: "LabContext", drafted: bool) -> ReadBack:
        """Read the broker after the run and say what holds."""

    def diagnosis_checks(self, findings: "list[FindingSeen]") -> list[Check]:
        """What this incident's diagnosis must name beyond its kind (a subject, a version,
        known only once the scenario built it); nothing by default."""
        return []

    async def cleanup(self, lab: "LabContext") -> None:
        """Stop the scenario's own clients; the context removes its topics and groups."""
        return None


REGISTRY: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: the scenario is known to ``kcr lab`` by its ``name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"two lab scenarios are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def discover(package: str = "kcr.lab.scenarios") -> dict[str, type[Scenario]]:
    """Import every module of ``package`` (each registers its scenarios); by name, sorted."""
    module = importlib.import_module(package)
    for found in pkgutil.iter_modules(module.__path__, prefix=f"{package}."):
        importlib.import_module(found.name)
    ordered = sorted(REGISTRY.values(), key=lambda s: (s.order, s.name))
    return {scenario.name: scenario for scenario in ordered}
