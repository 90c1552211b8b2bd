"""One error family for the Kubernetes API, for the operator, the MCP server and the plugin.

Callers react to a few answers (the object is missing; someone else wrote it first; may I
try again?) and show every other one to a person, so each error carries what kcr was doing,
the API server's own message (an admission denial reads as the policy wrote it) and the
HTTP status, or None when the API server never answered.
"""

import os
import ssl

RETRIABLE_STATUSES = frozenset({409, 429})
"""Besides 5xx: a conflict is resolved by reading again, throttling by waiting."""


class KubeError(Exception):
    """The API server's answer, with what kcr was doing: a person can act on it."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retriable(self) -> bool:
        """Worth trying again unchanged: no answer at all, a conflict, throttling or 5xx."""
        status = self.status
        return status is None or status in RETRIABLE_STATUSES or status >= 500


class KubeNotFoundError(KubeError):
    """The object (or its namespace) does not exist."""

    def __init__(self, message: str, *, status: int | None = 404) -> None:
        super().__init__(message, status=status)


class KubeConflictError(KubeError):
    """The object already exists (create) or changed since it was read (update)."""

    def __init__(self, message: str, *, status: int | None = 409) -> None:
        super().__init__(message, status=status)


class KubeForbiddenError(KubeError):
    """RBAC or an admission policy refused the request; the message says which and why."""

    def __init__(self, message: str, *, status: int | None = 403) -> None:
        super().__init__(message, status=status)


class KubeUnreachableError(KubeError):
    """No answer from the API server at all: refused, timed out, TLS or DNS failed."""


_BY_STATUS: dict[int, type[KubeError]] = {
    403: KubeForbiddenError,
    404: KubeNotFoundError,
    409: KubeConflictError,
}


def answered(status: int, message: str, doing: str) -> KubeError:
    """``doing``, the server's message and the HTTP status, as the matching error."""
    return _BY_STATUS.get(status, KubeError)(f"{doing}: {message} (HTTP {status})", status=status)


def unreachable(error: BaseException, server: str, doing: str) -> KubeUnreachableError:
    """One line naming the server and the network's own reason, never the wrapper chain."""
    return KubeUnreachableError(
        f"{doing}: cannot reach the Kubernetes API server {server or '(unknown)'}: "
        f"{network_reason(error)}"
    )


def network_reason(error: BaseException) -> str:
    """The innermost reason (``Connection refused``), without the pool and retry wrappers."""
    reason: BaseException = error
    for _ in range(5):  # bounded: the chain is a few wrappers deep
        inner = reason.__cause__ or reason.__context__
        if inner is None:
            break
        reason = inner
    if isinstance(reason, ssl.SSLError):  # its errno is OpenSSL's, not the system's
        text = str(reason)
    elif isinstance(reason, OSError) and reason.errno and reason.errno > 0:
        text = os.strerror(reason.errno)  # not asyncio's "Connect call failed (host, port)"
    elif isinstance(reason, OSError) and reason.strerror:
        text = reason.strerror
    else:
        text = str(reason)
    if not text:  # a timeout often has no words of its own
        text = str(error) or type(error).__name__
    return text.rsplit(": ", 1)[-1] if len(text) > 200 else text
