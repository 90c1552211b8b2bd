"""Assemble and run one operator process: ports, metrics endpoint, kopf.

``kcr operator`` calls :func:`run_operator` with real ports; tests call it with the
Kafka fake and the Kubernetes emulator, in-process, and stop it with ``stop_flag``.
"""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import kopf
from prometheus_client import start_http_server

from kcr.kafka.connect import open_kafka
from kcr.kube.client import KubeClient
from kcr.operator.clusters import KafkaClients, KafkaFactory
from kcr.operator.handlers import build_registry
from kcr.operator.kube import OPERATOR_TIMEOUT_SECONDS, KubernetesPort, OperatorKube
from kcr.operator.login import connection, credentials
from kcr.operator.metrics import Metrics
from kcr.operator.prometheus import HttpPrometheus, PrometheusPort
from kcr.operator.runtime import Runtime, utc_now
from kcr.operator.settings import OperatorConfig, configure_kopf


def build_runtime(
    config: OperatorConfig,
    *,
    login: Callable[[], kopf.ConnectionInfo] | None = None,
    kube: KubernetesPort | None = None,
    kafka_factory: KafkaFactory | None = None,
    prometheus: Callable[[str], PrometheusPort] | None = None,
    metrics: Metrics | None = None,
    clock: Callable[[], Any] = utc_now,
) -> Runtime:
    login = login or partial(connection, config.kubeconfig, config.in_cluster)
    metrics = metrics or Metrics()
    kube = kube or OperatorKube(
        KubeClient(
            lambda: credentials(login()),
            timeout=OPERATOR_TIMEOUT_SECONDS,
            user_agent="kcr-operator",
        )
    )
    return Runtime(
        config=config,
        login=login,
        kube=kube,
        kafka=KafkaClients(kube, kafka_factory or open_kafka, metrics),
        prometheus=prometheus or HttpPrometheus,
        metrics=metrics,
        clock=clock,
    )


@contextmanager
def metrics_endpoint(config: OperatorConfig, metrics: Metrics) -> Iterator[int | None]:
    """Serve ``/metrics`` in a thread; yields the bound port (useful when asked for 0)."""
    if config.metrics_port is None:
        yield None
        return
    server, thread = start_http_server(
        config.metrics_port, addr=config.listen_address, registry=metrics.registry
    )
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def run_operator(
    runtime: Runtime,
    *,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    config = runtime.config
    settings = kopf.OperatorSettings()
    configure_kopf(settings, config)
    try:
        with metrics_endpoint(config, runtime.metrics) as port:
            runtime.metrics_port = port
            await kopf.operator(
                registry=build_registry(runtime),
                settings=settings,
                namespaces=list(config.namespaces),
                clusterwide=config.all_namespaces,
                standalone=config.standalone,
                priority=config.priority,
                peering_name=config.peering,
                liveness_endpoint=config.health_url,
                stop_flag=stop_flag,
                ready_flag=ready_flag,
                memo=kopf.Memo(),
            )
    finally:
        await runtime.aclose()
