"""ACL filters select bindings as Kafka's DescribeAcls does, for every pattern type."""

import pytest

from kcr import kinds
from kcr.kafka import AclFilter, AclPatternFilter
from kcr.kinds.alter_acls import AlterAcls
from kcr.model import AclBinding, AclOperation, AclPatternType, AclResourceType

from .conftest import World

pytestmark = pytest.mark.asyncio

TOPIC, GROUP = AclResourceType.TOPIC, AclResourceType.GROUP
ANY, MATCH = AclPatternFilter.ANY, AclPatternFilter.MATCH
LITERAL, PREFIXED = AclPatternFilter.LITERAL, AclPatternFilter.PREFIXED


def _bindings(unique: str) -> dict[str, AclBinding]:
    """One principal's bindings: literal, prefixed and wildcard on topics, literal on a group."""
    principal = f"User:{unique}"

    def binding(kind: AclResourceType, name: str, **extra: object) -> AclBinding:
        return AclBinding.model_validate(
            {
                "resource_type": kind,
                "resource_name": name,
                "principal": principal,
                "operation": AclOperation.READ,
                **extra,
            }
        )

    return {
        "literal": binding(TOPIC, f"{unique}-orders"),
        "prefixed": binding(TOPIC, f"{unique}-", pattern_type=AclPatternType.PREFIXED),
        "wildcard": binding(TOPIC, "*", operation=AclOperation.WRITE),
        "group": binding(GROUP, f"{unique}-orders"),
    }


# (resource type, resource name with {u} for the test's prefix, pattern filter) → the
# bindings Kafka selects; Apache Kafka is the judge of this table.
FILTERS = [
    ((None, None, ANY), {"literal", "prefixed", "wildcard", "group"}),
    ((None, "{u}-orders", ANY), {"literal", "group"}),
    ((TOPIC, "{u}-orders", ANY), {"literal"}),
    ((TOPIC, None, LITERAL), {"literal", "wildcard"}),
    ((TOPIC, "{u}-orders", LITERAL), {"literal"}),
    ((TOPIC, "{u}-", LITERAL), set()),
    ((None, None, PREFIXED), {"prefixed"}),
    ((TOPIC, "{u}-", PREFIXED), {"prefixed"}),
    ((TOPIC, "{u}-orders", PREFIXED), set()),
    ((TOPIC, "{u}-orders", MATCH), {"literal", "prefixed", "wildcard"}),
    ((TOPIC, "{u}-payments", MATCH), {"prefixed", "wildcard"}),
    ((TOPIC, "elsewhere", MATCH), {"wildcard"}),
    ((GROUP, "{u}-orders", MATCH), {"group"}),
    ((None, None, MATCH), {"literal", "prefixed", "wildcard", "group"}),
]
FILTER_IDS = [
    "any",
    "any-named",
    "any-topic-named",
    "literal-topics",
    "literal-named",
    "literal-by-prefix-name",
    "prefixed",
    "prefixed-named",
    "prefixed-by-literal-name",
    "match-topic",
    "match-other-topic-under-prefix",
    "match-unrelated-topic",
    "match-group",
    "match-unnamed",
]


@pytest.mark.needs("describeAcls", "createAcls", "deleteAcls")
@pytest.mark.parametrize(("selector", "expected"), FILTERS, ids=FILTER_IDS)
async def test_describe_filters_select_as_kafka_does(
    world: World,
    unique: str,
    selector: tuple[AclResourceType | None, str | None, AclPatternFilter],
    expected: set[str],
) -> None:
    bindings = _bindings(unique)
    await kinds.apply(world.kafka, AlterAcls(add=list(bindings.values())))
    kind, name, pattern = selector
    found = await world.kafka.describe_acls(
        AclFilter(
            resource_type=kind,
            resource_name=None if name is None else name.format(u=unique),
            pattern_type=pattern,
            principal=f"User:{unique}",
        )
    )
    names = {key for key, b in bindings.items() if b.key() in {f.key() for f in found}}
    assert names == expected
    assert len(found) == len(expected), "each binding once"


@pytest.mark.needs("describeAcls", "createAcls", "deleteAcls")
async def test_deleting_one_pattern_leaves_the_others(world: World, unique: str) -> None:
    bindings = _bindings(unique)
    await kinds.apply(world.kafka, AlterAcls(add=list(bindings.values())))
    await kinds.apply(world.kafka, AlterAcls(remove=[bindings["prefixed"], bindings["wildcard"]]))
    left = await world.kafka.describe_acls(
        AclFilter(resource_type=TOPIC, resource_name=f"{unique}-orders", pattern_type=MATCH)
    )
    mine = [b.key() for b in left if b.principal == f"User:{unique}"]
    assert mine == [bindings["literal"].key()]


@pytest.mark.needs("describeAcls")
@pytest.mark.parametrize("pattern", list(AclPatternFilter), ids=lambda p: p.value.lower())
async def test_a_principal_without_bindings_has_none(
    world: World, unique: str, pattern: AclPatternFilter
) -> None:
    """DescribeAcls alone: served by tansu too, which keeps no bindings."""
    found = await world.kafka.describe_acls(
        AclFilter(
            resource_type=TOPIC,
            resource_name=f"{unique}-orders",
            pattern_type=pattern,
            principal=f"User:{unique}",
        )
    )
    assert found == []
