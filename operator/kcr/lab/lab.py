"""``kcr lab``: the scenarios on a cluster, each judged, a scorecard and an HTML page.

Embedded (the default), three Apache Kafka brokers start on loopback for the run; with a
staging cluster every name is under the lab prefix and removed afterwards. kcr's stack
(the Kubernetes emulator, the operator, the MCP server) runs on this machine either way,
and everything started is stopped by pid when the run ends, whatever happened.
"""

import asyncio
import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from kcr.embedded.apicurio import APICURIO_VERSION, runner_jar, running_registry
from kcr.embedded.jmx import MetricsAgents, agent_jar
from kcr.embedded.kraft import KraftCluster, KraftError, running_cluster
from kcr.embedded.narration import Narrator
from kcr.embedded.prometheus import JOB, running_prometheus
from kcr.embedded.stack import StackOptions
from kcr.lab.cluster import LabKafka, StagingOptions, embedded_kafka, staging_kafka
from kcr.lab.context import LabContext, LabStack, lab_owner
from kcr.lab.report import print_scorecard, write_html
from kcr.lab.runner import REVIEWERS, Result, RunEnv, results_passed, run_scenario, skipped
from kcr.lab.scenario import Need, Scenario, discover

BROKERS = 3


@dataclass(frozen=True)
class LabOptions:
    staging: StagingOptions | None = None
    only: tuple[str, ...] = ()
    assistant_command: str | None = None
    report: Path = Path("kcr-lab.html")
    prefix: str = ""


def run_lab(options: LabOptions, console: Console) -> bool:
    """Run every scenario (or ``only``); True when no verdict failed."""
    narrator = Narrator(console)
    started_at, started = datetime.now(UTC), time.monotonic()
    prefix = options.prefix or f"kcr-lab-{secrets.token_hex(3)}."
    with ExitStack() as stack:
        if options.staging is None:
            cluster, prometheus = _cluster(stack, options, narrator)
            kafka = embedded_kafka(cluster, _registry(stack, options, narrator), prometheus)
        else:
            kafka = staging_kafka(options.staging)
        narrator.done(f"Kafka at {kafka.bootstrap}; lab names start with {prefix}")
        results = asyncio.run(_run_all(options, kafka, prefix, narrator))
    seconds = time.monotonic() - started
    print_scorecard(console, results)
    write_html(options.report, results, started_at, seconds)
    console.print(f"HTML report: {options.report.resolve()} ({seconds:.0f}s in all)")
    return results_passed(results)


def _chosen(options: LabOptions) -> list[type[Scenario]]:
    scenarios = discover()
    unknown = set(options.only) - set(scenarios)
    if unknown:
        raise ValueError(f"no lab scenario named {sorted(unknown)}; known: {sorted(scenarios)}")
    return [s for n, s in scenarios.items() if not options.only or n in options.only]


def _cluster(
    stack: ExitStack, options: LabOptions, narrator: Narrator
) -> tuple[KraftCluster, str | None]:
    """The brokers, with the JMX exporter agent and a Prometheus scraping it where a chosen
    scenario reads broker metrics; without the agent's jar or the binary, those scenarios
    are skipped, saying why."""
    agents = None
    if any(Need.BROKER_METRICS in s.needs for s in _chosen(options)):
        try:
            agents = MetricsAgents(agent_jar(offline=True))
        except KraftError as error:
            narrator.warn(f"no broker metrics: {error}")
    narrator.chapter(f"starting {BROKERS} Apache Kafka brokers (KRaft) on loopback")
    cluster = stack.enter_context(running_cluster(BROKERS, java_agent=agents))
    if agents is None:
        return cluster, None
    try:
        prometheus = stack.enter_context(running_prometheus({JOB: agents.ports}))
    except KraftError as error:
        narrator.warn(f"no broker metrics: {error}")
        return cluster, None
    narrator.done(
        f"Prometheus at {prometheus.url}, pid {prometheus.process.pid}: scrapes each broker's "
        "JMX exporter every second"
    )
    return cluster, prometheus.url


def _registry(stack: ExitStack, options: LabOptions, narrator: Narrator) -> str | None:
    """Apicurio Registry on loopback where a chosen scenario needs one; its ccompat URL.
    Not built (no Maven), those scenarios are skipped, saying how to build it."""
    if not any(Need.SCHEMA_REGISTRY in s.needs for s in _chosen(options)):
        return None
    try:
        runner_jar(offline=True)
    except KraftError as error:
        narrator.warn(f"no schema registry: {error}")
        return None
    registry = stack.enter_context(running_registry())
    narrator.done(f"Apicurio Registry {APICURIO_VERSION} at {registry.api_url}")
    return registry.api_url


async def _run_all(
    options: LabOptions, kafka: LabKafka, prefix: str, narrator: Narrator
) -> list[Result]:
    chosen = _chosen(options)
    stack = LabStack.prepare(
        StackOptions(
            namespace="kcr-lab",
            cluster="lab",
            assistant="assistant",
            topic_prefixes=(prefix,),
            group_prefixes=(prefix,),
            reviewers=REVIEWERS,
            ownership=(lab_owner(prefix),),
            sample_interval=1.0,
        )
    )
    assert isinstance(stack, LabStack)
    results = []
    try:
        stack.start_on(kafka, narrator)
        stack.launch_operator()
        stack.launch_mcp()
        stack.await_services(narrator)
        env = RunEnv(stack, narrator, prefix, options.assistant_command)
        for cls in chosen:
            scenario = cls()
            narrator.chapter(f"{scenario.name}: {scenario.title}")
            missing = sorted(scenario.needs - kafka.offers())
            if missing:
                results.append(skipped(scenario, f"needs {', '.join(missing)}"))
                narrator.warn(f"skipped: needs {', '.join(missing)}")
                continue
            admin = kafka.open_admin()
            try:
                context = LabContext(scenario.name, prefix, kafka, admin, stack, narrator)
                result = await run_scenario(scenario, env, context)
            finally:
                await admin.close()
            results.append(result)
            mark = narrator.done if result.verdict.passed else narrator.failed
            mark(f"{scenario.name}: {result.verdict.label} in {result.seconds:.1f}s")
    finally:
        stack.close()
    return results
