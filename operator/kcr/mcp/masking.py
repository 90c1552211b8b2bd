"""Secrets never leave the server: sensitive configuration values and arguments are masked.

A value is masked when the broker marks it sensitive or when its key names a secret
(``sasl.jaas.config``, passwords, keys, tokens, credentials), whatever the broker says;
the key rule lives in :mod:`kcr.kafka.sensitive`, shared with the operator's snapshots.
"""

from typing import Any

from kcr.kafka.sensitive import is_sensitive_key

__all__ = ["MASK", "is_sensitive_key", "mask_mapping", "mask_value"]

MASK = "****"


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
