"""Secrets never leave the server: sensitive configuration values and arguments are masked.

A value is masked when the broker marks it sensitive or when its key names a secret
(``sasl.jaas.config``, passwords, keys, tokens, credentials), whatever the broker says.
"""

import re
from typing import Any

MASK = "****"

_SENSITIVE_KEY = re.compile(
    r"(jaas|password|passwd|secret|token|credential|private|(^|[._-])key($|[._-])|"
    r"keystore|truststore\.certificates|apikey|api[._-]key|\.pem$|sasl\.)",
    re.IGNORECASE,
)


def is_sensitive_key(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key))


def mask_value(key: str, value: str | None, *, sensitive: bool = False) -> str | None:
    if value is None:
        return None
    return MASK if sensitive or is_sensitive_key(key) else value


def mask_mapping(value: Any) -> Any:
    """A copy of a JSON-like value with the values of sensitive keys masked, at any depth."""
    if isinstance(value, dict):
        return {
            k: MASK if isinstance(k, str) and is_sensitive_key(k) else mask_mapping(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_mapping(item) for item in value]
    return value
