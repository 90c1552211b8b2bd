"""librdkafka's error codes mapped onto the port's typed errors, with a sentence for people."""

from confluent_kafka import KafkaError, KafkaException

from kcr.kafka.errors import (
    AuthorizationError,
    ConflictError,
    InvalidRequestError,
    KafkaPortError,
    KafkaTimeoutError,
    NotFoundError,
    UnavailableError,
    UnsupportedByBrokerError,
)

_AUTHORIZATION = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    KafkaError.DELEGATION_TOKEN_AUTHORIZATION_FAILED,
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION,
    KafkaError._SSL,
}
_NOT_FOUND = {
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError._UNKNOWN_PARTITION,
    KafkaError.GROUP_ID_NOT_FOUND,
    KafkaError.RESOURCE_NOT_FOUND,
    KafkaError.UNKNOWN_TOPIC_ID,
}
_INVALID = {
    KafkaError.INVALID_REQUEST,
    KafkaError.INVALID_CONFIG,
    KafkaError.INVALID_PARTITIONS,
    KafkaError.INVALID_REPLICATION_FACTOR,
    KafkaError.INVALID_REPLICA_ASSIGNMENT,
    KafkaError.TOPIC_EXCEPTION,
    KafkaError.POLICY_VIOLATION,
    KafkaError.INVALID_GROUP_ID,
    KafkaError.INVALID_COMMIT_OFFSET_SIZE,
    KafkaError.INVALID_PRINCIPAL_TYPE,
    KafkaError.TOPIC_DELETION_DISABLED,
    KafkaError._INVALID_ARG,
}
_CONFLICT = {
    KafkaError.TOPIC_ALREADY_EXISTS,
    KafkaError.NON_EMPTY_GROUP,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.GROUP_SUBSCRIBED_TO_TOPIC,
    KafkaError.REASSIGNMENT_IN_PROGRESS,
    KafkaError.NO_REASSIGNMENT_IN_PROGRESS,
}
_UNSUPPORTED = {
    KafkaError._UNSUPPORTED_FEATURE,
    KafkaError.UNSUPPORTED_VERSION,
    KafkaError.SECURITY_DISABLED,
    KafkaError._NOT_IMPLEMENTED,
}
_TIMEOUT = {
    KafkaError._TIMED_OUT,
    KafkaError._TIMED_OUT_QUEUE,
    KafkaError.REQUEST_TIMED_OUT,
}
_UNAVAILABLE = {
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._RESOLVE,
    KafkaError._DESTROY,
    KafkaError.NETWORK_EXCEPTION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.UNKNOWN_LEADER_EPOCH,
    KafkaError.FENCED_LEADER_EPOCH,
    KafkaError.BROKER_NOT_AVAILABLE,
    KafkaError.REPLICA_NOT_AVAILABLE,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.NOT_COORDINATOR,
    KafkaError.NOT_CONTROLLER,
    KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.KAFKA_STORAGE_ERROR,
    KafkaError.THROTTLING_QUOTA_EXCEEDED,
}


def kafka_error_of(error: BaseException) -> KafkaError | None:
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return error.args[0]
    if isinstance(error, KafkaError):
        return error
    return None


def translate(
    error: KafkaError, action: str, *, resource: str = "resource", name: str = ""
) -> KafkaPortError:
    """``action`` says what kcr tried, e.g. "create topic orders"; the broker's words follow."""
    code = error.code()
    label = error.name()
    said = f"{action}: {error.str()} ({label})"
    if code in _AUTHORIZATION:
        return AuthorizationError(
            f"{said}; the principal kcr connects as lacks the ACL for this, or its "
            "credentials were refused",
            code=label,
        )
    if code in _NOT_FOUND:
        return NotFoundError(
            f"{said}; the {resource} does not exist", resource=resource, name=name, code=label
        )
    if code in _CONFLICT:
        return ConflictError(said, code=label)
    if code in _INVALID:
        return InvalidRequestError(said, code=label)
    if code in _UNSUPPORTED:
        return UnsupportedByBrokerError(
            f"{said}; the broker does not support this operation", feature=action, code=label
        )
    if code in _TIMEOUT:
        return KafkaTimeoutError(f"{said}; the broker did not answer in time", code=label)
    if code in _UNAVAILABLE:
        return UnavailableError(f"{said}; retry when the cluster is reachable", code=label)
    failure = KafkaPortError(said, code=label)
    failure.retriable = bool(error.retriable())
    return failure


def translate_code(
    code: int,
    message: str | None,
    action: str,
    *,
    resource: str = "resource",
    name: str = "",
    retriable: bool = False,
) -> KafkaPortError:
    """A broker's error code (from a response another client parsed) as the port's error.

    Kafka's codes are the same on every client, so kafka-python's answers are classified
    here by the same rules as librdkafka's; ``message`` is the broker's own text, if any.
    """
    found = KafkaError(code, message or None, retriable=retriable)
    return translate(found, action, resource=resource, name=name)
