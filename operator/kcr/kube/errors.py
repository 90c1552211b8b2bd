"""One error family for the Kubernetes API, whichever client kcr used to reach it.

Callers react to two answers (the object is missing; someone else wrote it first) and
show every other one to a person, so each error carries what kcr was doing, the API
server's own message (an admission denial reads as the policy wrote it) and the status.
"""

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the official client is slow to import; only its shape is needed here
    from kubernetes.client.exceptions import ApiException


class KubeError(Exception):
    """The API server's answer, with what kcr was doing: a person can act on it."""


class KubeNotFoundError(KubeError):
    """The object (or its namespace) does not exist."""


class KubeConflictError(KubeError):
    """The object already exists (create) or changed since it was read (update)."""


class KubeUnreachableError(KubeError):
    """No answer from the API server at all: refused, timed out, TLS or DNS failed."""


def unreachable(error: Exception, server: str, doing: str) -> KubeUnreachableError:
    """One line naming the server and the network's own reason, never urllib3's chain."""
    return KubeUnreachableError(
        f"{doing}: cannot reach the Kubernetes API server {server or '(unknown)'}: "
        f"{network_reason(error)}"
    )


def network_reason(error: BaseException) -> str:
    """The innermost reason (``Connection refused``), without the pool and retry wrappers."""
    reason: BaseException = getattr(error, "reason", None) or error
    for _ in range(5):  # bounded: the chain is a few wrappers deep
        inner = reason.__cause__ or reason.__context__
        if inner is None:
            break
        reason = inner
    text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
    return text.rsplit(": ", 1)[-1] if len(text) > 200 else text


def explain(error: "ApiException", doing: str) -> KubeError:
    """``doing``, the server's message and the HTTP status, as the matching error."""
    message = error.reason or "error"
    if error.body:
        try:
            message = json.loads(error.body).get("message", message)
        except (ValueError, AttributeError):
            message = str(error.body)[:500]
    text = f"{doing}: {message} (HTTP {error.status})"
    if error.status == 404:
        return KubeNotFoundError(text)
    if error.status == 409:
        return KubeConflictError(text)
    return KubeError(text)
