"""Typed failures of the Kafka port, so callers decide retry or stop without parsing text.

``retriable`` is the one bit the operator needs: a retriable error becomes a
``kopf.TemporaryError``, the others a permanent failure with the message shown to people.
"""


class KafkaPortError(Exception):
    """Every error the port raises; ``code`` is Kafka's error name when the broker gave one."""

    retriable: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class AuthorizationError(KafkaPortError):
    """The broker refused the principal kcr connects as (ACLs, SASL or TLS identity)."""


class NotFoundError(KafkaPortError):
    """A topic, partition or group the call needs does not exist."""

    def __init__(self, message: str, *, resource: str, name: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.resource = resource
        self.name = name


class InvalidRequestError(KafkaPortError):
    """The broker (or the port, before sending) rejected the request as malformed or illegal."""


class ConflictError(KafkaPortError):
    """The live state contradicts the requested one in a way no write should paper over."""


class GroupNotEmptyError(ConflictError):
    """A group with active members: its offsets cannot be reset (``members`` null if unknown)."""

    def __init__(
        self, message: str, *, group: str, members: int | None, code: str = "NON_EMPTY_GROUP"
    ) -> None:
        super().__init__(message, code=code)
        self.group = group
        self.members = members


class UnsupportedByBrokerError(KafkaPortError):
    """The broker does not implement the API the call needs (an older Kafka, or tansu)."""

    def __init__(self, message: str, *, feature: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.feature = feature


class KafkaTimeoutError(KafkaPortError):
    """The call did not finish before its deadline; the write may or may not have happened."""

    retriable = True


class UnavailableError(KafkaPortError):
    """No broker, leader or coordinator could be reached right now."""

    retriable = True


def raise_together(failures: list[KafkaPortError]) -> None:
    """Kafka answers per partition or entity: the first refusal, typed, its message naming
    every one that was refused."""
    if not failures:
        return
    first = failures[0]
    if len(failures) > 1:
        first.message = "; ".join(f.message for f in failures)
        first.args = (first.message,)
    raise first
