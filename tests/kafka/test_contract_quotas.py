"""Client quotas for users, client ids, their combination and defaults: each change sent
once, the other keys left alone, Kafka's refusals word for word."""

import pytest

from kcr.kafka import (
    ApplyOutcome,
    ClientQuota,
    ClientQuotaFilter,
    InvalidRequestError,
    QuotaAlteration,
    QuotaEntityType,
    QuotaFilterComponent,
    QuotaKey,
    QuotaMatch,
    UnsupportedByBrokerError,
)

from .conftest import World

pytestmark = pytest.mark.asyncio

APPLIED, ALREADY = ApplyOutcome.APPLIED, ApplyOutcome.ALREADY_APPLIED
USER, CLIENT = QuotaEntityType.USER, QuotaEntityType.CLIENT_ID
PRODUCE, CONSUME, REQUESTS = (
    QuotaKey.PRODUCER_BYTE_RATE,
    QuotaKey.CONSUMER_BYTE_RATE,
    QuotaKey.REQUEST_PERCENTAGE,
)


async def _quotas_of(world: World, entity: dict[QuotaEntityType, str | None]) -> dict[str, float]:
    found = await world.kafka.describe_client_quotas(ClientQuotaFilter.exactly(entity))
    assert len(found) <= 1
    return dict(found[0].values) if found else {}


@pytest.mark.needs("describeClientQuotas", "alterClientQuotas")
async def test_a_client_ids_quotas_are_set_once_and_removed_key_by_key(
    world: World, unique: str
) -> None:
    client = {CLIENT: f"{unique}-app"}
    wanted = QuotaAlteration(entity=client, values={PRODUCE: 1048576, REQUESTS: 12.5})
    first = await world.kafka.alter_client_quotas([wanted])
    second = await world.kafka.alter_client_quotas([wanted])
    assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
    label = f"client-id={unique}-app"
    assert first.details == [f"{label}: producer_byte_rate=1048576, request_percentage=12.5"]
    assert second.details == [f"{label}: already as requested"]
    assert await _quotas_of(world, client) == {
        "producer_byte_rate": 1048576.0,
        "request_percentage": 12.5,
    }
    # A key set alone leaves the others; a null removes only its own key.
    await world.kafka.alter_client_quotas([QuotaAlteration(entity=client, values={CONSUME: 2048})])
    removed = await world.kafka.alter_client_quotas(
        [QuotaAlteration(entity=client, values={PRODUCE: None, QuotaKey.REQUEST_PERCENTAGE: 12.5})]
    )
    assert removed.details == [f"{label}: removed producer_byte_rate"]
    assert await _quotas_of(world, client) == {
        "consumer_byte_rate": 2048.0,
        "request_percentage": 12.5,
    }
    await world.kafka.alter_client_quotas(
        [QuotaAlteration(entity=client, values=dict.fromkeys(QuotaKey))]
    )
    assert await _quotas_of(world, client) == {}
    gone = await world.kafka.alter_client_quotas(
        [QuotaAlteration(entity=client, values={PRODUCE: None})]
    )
    assert (gone.outcome, gone.details) == (ALREADY, [f"{label}: already as requested"])


@pytest.mark.needs("describeClientQuotas", "alterClientQuotas")
async def test_a_user_its_clients_default_and_one_client_are_three_entities(
    world: World, unique: str
) -> None:
    """``user`` alone, ``user`` with the default client id, ``user`` with one client id:
    a filter on the user finds all three, a strict one only the user's own."""
    user = f"{unique}-u"
    entities: list[dict[QuotaEntityType, str | None]] = [
        {USER: user},
        {USER: user, CLIENT: None},
        {USER: user, CLIENT: f"{unique}-c"},
    ]
    await world.kafka.alter_client_quotas(
        [
            QuotaAlteration(entity=e, values={CONSUME: 1000 * (i + 1)})
            for i, e in enumerate(entities)
        ]
    )
    on_user = QuotaFilterComponent(entity_type=USER, match=QuotaMatch.EXACT, name=user)
    every = await world.kafka.describe_client_quotas(ClientQuotaFilter(components=[on_user]))
    # Sorted as Kafka's tools label them: client-id=<default>,user=… first.
    assert every == [
        ClientQuota(entity={USER: user, CLIENT: None}, values={"consumer_byte_rate": 2000.0}),
        ClientQuota(
            entity={USER: user, CLIENT: f"{unique}-c"}, values={"consumer_byte_rate": 3000.0}
        ),
        ClientQuota(entity={USER: user}, values={"consumer_byte_rate": 1000.0}),
    ]
    strict = ClientQuotaFilter(components=[on_user], strict=True)
    assert await world.kafka.describe_client_quotas(strict) == [every[2]]
    defaults = ClientQuotaFilter(
        components=[on_user, QuotaFilterComponent(entity_type=CLIENT, match=QuotaMatch.DEFAULT)]
    )
    assert await world.kafka.describe_client_quotas(defaults) == [every[0]]
    await world.kafka.alter_client_quotas(
        [QuotaAlteration(entity=e, values={CONSUME: None}) for e in entities]
    )
    assert await world.kafka.describe_client_quotas(ClientQuotaFilter(components=[on_user])) == []


@pytest.mark.needs("describeClientQuotas", "alterClientQuotas")
@pytest.mark.parametrize(
    ("values", "said"),
    [
        pytest.param(
            {PRODUCE: 1024.5}, "producer_byte_rate cannot be a fractional value.", id="fraction"
        ),
        pytest.param({REQUESTS: 0.0}, "Quota request_percentage must be greater than 0", id="zero"),
        pytest.param(
            {CONSUME: -5.0}, "Quota consumer_byte_rate must be greater than 0", id="negative"
        ),
    ],
)
async def test_kafka_refuses_bad_quota_values_naming_the_entity(
    world: World, unique: str, values: dict[QuotaKey, float], said: str
) -> None:
    client = {CLIENT: f"{unique}-bad"}
    with pytest.raises(InvalidRequestError) as refused:
        await world.kafka.alter_client_quotas([QuotaAlteration(entity=client, values=values)])
    assert refused.value.code == "INVALID_REQUEST"
    assert refused.value.message == (
        f"alter the client quotas of client-id={unique}-bad: {said} (INVALID_REQUEST)"
    )
    assert await _quotas_of(world, client) == {}


async def test_an_entity_given_twice_is_refused_before_sending(world: World, unique: str) -> None:
    twice = [QuotaAlteration(entity={USER: unique}, values={PRODUCE: 1024})] * 2
    with pytest.raises(InvalidRequestError, match=f"entity user={unique} appears more than once"):
        await world.kafka.alter_client_quotas(twice)


@pytest.mark.lacks("describeClientQuotas")
async def test_quotas_where_the_broker_has_none(world: World) -> None:
    with pytest.raises(UnsupportedByBrokerError, match="DescribeClientQuotas is not available"):
        await world.kafka.describe_client_quotas()
