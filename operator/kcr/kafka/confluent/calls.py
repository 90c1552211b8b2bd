"""Awaiting librdkafka: its futures under one deadline, its errors as the port's errors."""

import asyncio
import logging
import threading
from collections.abc import Callable, Collection, Hashable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from kcr.kafka.confluent.errors import kafka_error_of, translate
from kcr.kafka.errors import (
    AuthorizationError,
    InvalidRequestError,
    KafkaPortError,
    KafkaTimeoutError,
    UnavailableError,
)
from kcr.kafka.settings import ClientSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
_LOGIN_FAILED = {KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL}


class AdminCalls:
    """One AdminClient; every call is bounded by ``settings.deadline``, and topic creation,
    deletion and partition increases by ``settings.operation_deadline``."""

    def __init__(self, config: dict[str, Any], settings: ClientSettings) -> None:
        self._settings = settings
        self._last_error: KafkaError | None = None
        self._all_down = False
        """librdkafka said every broker is down, and no call was answered since."""
        full: dict[str, Any] = {**config, "error_cb": self._remember}
        self._admin: AdminClient | None = AdminClient(full)

    def _remember(self, error: KafkaError) -> None:
        """librdkafka reports connection and login failures here, not on the call."""
        self._last_error = error
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self._all_down = True
        log.debug("kafka client error: %s", error)

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            raise UnavailableError("the Kafka client is closed")
        return self._admin

    @property
    def settings(self) -> ClientSettings:
        return self._settings

    # --- awaiting librdkafka ---------------------------------------------------------------

    def _failure(
        self,
        error: BaseException,
        action: str,
        resource: str,
        name: str,
        *,
        waited: float | None = None,
    ) -> KafkaPortError:
        found = kafka_error_of(error)
        if found is None:
            return KafkaPortError(f"{action}: {error}")
        if found.code() in {KafkaError._TIMED_OUT, KafkaError._TRANSPORT}:
            return self._timeout(action, found, waited=waited)
        return translate(found, action, resource=resource, name=name)

    def _timeout(
        self, action: str, cause: KafkaError | None = None, *, waited: float | None = None
    ) -> KafkaPortError:
        """A call that ran out of time: say why, if librdkafka told us about a login failure."""
        self._serve_callbacks()
        last = self._last_error
        if last is not None and last.code() in _LOGIN_FAILED:
            return AuthorizationError(
                f"{action}: the cluster refused kcr's credentials ({last.str()})",
                code=last.name(),
            )
        if last is not None and self._all_down:
            return UnavailableError(
                f"{action}: no broker is reachable ({last.str()})", code=last.name()
            )
        waited_for = waited or self._settings.request_timeout
        if last is not None and last.code() == KafkaError._TRANSPORT:
            # One broker's lost connection, while the others may well answer: said as such.
            return UnavailableError(
                f"{action}: no answer within {waited_for:.0f}s; a broker connection "
                f"failed ({last.str()})",
                code=last.name(),
            )
        said = f" ({cause.str()})" if cause is not None else ""
        return KafkaTimeoutError(
            f"{action}: no answer within {waited_for:.0f}s{said}",
            code=cause.name() if cause is not None else None,
        )

    async def _settle(
        self, futures: "Collection[Future[Any]]", action: str, *, operation: bool = False
    ) -> None:
        """Wait for every future with one wake-up of the event loop, under the deadline
        (the longer operation deadline when ``operation``).

        Thousands of per-partition futures (ListOffsets) would otherwise cost a task and a
        thread-safe callback each; here the last one to finish wakes the loop once.
        """
        loop = asyncio.get_running_loop()
        finished = loop.create_future()
        remaining = len(futures)
        lock = threading.Lock()

        def wake(_: "Future[Any]") -> None:
            nonlocal remaining
            with lock:
                remaining -= 1
                last = remaining == 0
            if last:
                loop.call_soon_threadsafe(_resolve, finished)

        if not futures:
            return
        for future in futures:
            future.add_done_callback(wake)
        settings = self._settings
        deadline = settings.operation_deadline if operation else settings.deadline
        try:
            async with asyncio.timeout(deadline):
                await finished
            self._all_down = False
        except TimeoutError:
            for future in futures:
                future.cancel()
            waited = settings.operation_request_timeout if operation else None
            raise self._timeout(action, waited=waited) from None
        finally:
            self._serve_callbacks()

    @contextmanager
    def _sending(
        self,
        action: str,
        resource: str = "resource",
        name: str = "",
        *,
        waited: float | None = None,
    ) -> Iterator[None]:
        """Around a call into confluent-kafka: its own errors become the port's.

        The client checks arguments before sending and raises ``ValueError`` or
        ``TypeError`` for what it refuses; that is an invalid request, not a crash.
        """
        try:
            yield
        except KafkaException as error:
            raise self._failure(error, action, resource, name, waited=waited) from None
        except (TypeError, ValueError) as error:
            raise InvalidRequestError(
                f"{action}: the Kafka client refused the request ({error}); nothing was sent"
            ) from None

    def _result(
        self,
        future: "Future[T]",
        action: str,
        resource: str = "resource",
        name: str = "",
        *,
        waited: float | None = None,
    ) -> T:
        """The result of a finished future, librdkafka's error translated."""
        with self._sending(action, resource, name, waited=waited):
            return future.result(timeout=0)

    async def _await(
        self,
        future: "Future[T]",
        action: str,
        *,
        resource: str = "resource",
        name: str = "",
        operation: bool = False,
    ) -> T:
        await self._settle([future], action, operation=operation)
        waited = self._settings.operation_request_timeout if operation else None
        return self._result(future, action, resource, name, waited=waited)

    def _serve_callbacks(self) -> None:
        """Deliver librdkafka's queued logs, errors and statistics (never blocks)."""
        if self._admin is not None:
            self._admin.poll(0)

    async def _await_all(
        self, futures: dict[K, "Future[T]"], action: Callable[[K], str], resource: str = "resource"
    ) -> dict[K, T]:
        first = next(iter(futures), None)
        await self._settle(list(futures.values()), action(first) if first is not None else "")
        return {k: self._result(f, action(k), resource, str(k)) for k, f in futures.items()}

    async def _blocking(self, action: str, call: Callable[[], T]) -> T:
        try:
            with self._sending(action, "cluster"):
                async with asyncio.timeout(self._settings.deadline):
                    answered = await asyncio.to_thread(call)
                self._all_down = False
                return answered
        except TimeoutError:
            raise self._timeout(action) from None

    @property
    def _timeout_kwargs(self) -> dict[str, float]:
        return {"request_timeout": self._settings.request_timeout}

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def _operation_kwargs(self) -> dict[str, float]:
        return {
            "request_timeout": self._settings.operation_request_timeout,
            "operation_timeout": self._settings.operation_timeout,
        }

    async def close(self) -> None:
        self._admin = None


def _resolve(finished: "asyncio.Future[None]") -> None:
    if not finished.done():
        finished.set_result(None)
