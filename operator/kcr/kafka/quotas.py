"""Client quotas over a backend: each entity's quotas compared first, only changes sent.

An entity is a user, a client id, or both together; a null name is that type's default
(``--entity-default``). Setting a key leaves the entity's other keys alone; a null value
removes the key. Kafka judges the values (positive, whole byte rates) and says why not.
"""

from kcr.kafka.backend import Backend
from kcr.kafka.errors import InvalidRequestError
from kcr.kafka.quota_model import (
    ClientQuota,
    ClientQuotaFilter,
    QuotaAlteration,
    entity_label,
    quota_text,
)
from kcr.kafka.results import WriteResult
from kcr.kafka.settle import until_shown


def _key(quota: ClientQuota | QuotaAlteration) -> str:
    return entity_label(quota.entity)


async def describe(backend: Backend, quota_filter: ClientQuotaFilter) -> list[ClientQuota]:
    return sorted(await backend.describe_client_quotas(quota_filter), key=_key)


async def _current(backend: Backend, alteration: QuotaAlteration) -> dict[str, float]:
    found = await backend.describe_client_quotas(ClientQuotaFilter.exactly(alteration.entity))
    return dict(found[0].values) if found else {}


def _changes(alteration: QuotaAlteration, current: dict[str, float]) -> QuotaAlteration | None:
    """Only the keys whose value differs (a removal only where the key is set)."""
    changed = {
        key: value
        for key, value in alteration.values.items()
        if (value is None and key.value in current)
        or (value is not None and current.get(key.value) != value)
    }
    return alteration.model_copy(update={"values": changed}) if changed else None


async def alter(backend: Backend, alterations: list[QuotaAlteration]) -> WriteResult:
    labels = [_key(a) for a in alterations]
    twice = sorted({name for name in labels if labels.count(name) > 1})
    if twice:
        raise InvalidRequestError(
            f"entity {twice[0]} appears more than once; give each entity's quotas in one entry"
        )
    send, details = [], []
    for alteration in alterations:
        change = _changes(alteration, await _current(backend, alteration))
        if change is None:
            details.append(f"{_key(alteration)}: already as requested")
            continue
        send.append(change)
        details.append(f"{_key(alteration)}: {_said(change)}")
    if not send:
        return WriteResult.of(False, details)
    await backend.alter_client_quotas(send)

    async def read_back() -> list[dict[str, float]]:
        return [await _current(backend, a) for a in send]

    await until_shown(
        read_back,
        lambda found: all(_changes(a, f) is None for a, f in zip(send, found, strict=True)),
        "the new client quotas",
        backend.settings.operation_timeout,
    )
    return WriteResult.of(True, details)


def _said(change: QuotaAlteration) -> str:
    return ", ".join(
        f"removed {key.value}" if value is None else f"{key.value}={quota_text(value)}"
        for key, value in sorted(change.values.items())
    )
