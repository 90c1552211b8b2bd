"""Which optional APIs kcr uses, from a broker's ApiVersions answer, each on its own."""

import pytest

from kcr.kafka.apiversions import (
    CREATE_ACLS,
    CREATE_PARTITIONS,
    DELETE_ACLS,
    DESCRIBE_ACLS,
    ApiRanges,
    capabilities_from,
)
from kcr.kafka.readmodel import OPTIONAL_FEATURES

ALL = {CREATE_PARTITIONS: (0, 3), DESCRIBE_ACLS: (1, 3), CREATE_ACLS: (1, 3), DELETE_ACLS: (1, 3)}


def _without(*keys: int) -> ApiRanges:
    return {k: v for k, v in ALL.items() if k not in keys}


@pytest.mark.parametrize(
    ("ranges", "served", "reason"),
    [
        (ALL, OPTIONAL_FEATURES, {}),
        (
            _without(CREATE_PARTITIONS),
            {"describeAcls", "createAcls", "deleteAcls"},
            {"createPartitions": "does not serve CreatePartitions (API key 37)"},
        ),
        (
            _without(DELETE_ACLS, CREATE_PARTITIONS),
            {"describeAcls"},
            {"createAcls": "a binding kcr granted could not be revoked by a rollback"},
        ),
        (
            _without(DESCRIBE_ACLS),
            {"createPartitions", "createAcls", "deleteAcls"},
            {"describeAcls": "does not serve DescribeAcls (API key 29)"},
        ),
        (_without(*ALL), set(), {"deleteAcls": "does not serve DeleteAcls (API key 31)"}),
    ],
    ids=["kafka", "no-create-partitions", "tansu-create-without-delete", "no-describe", "none"],
)
def test_each_api_is_used_where_the_broker_serves_it(
    ranges: ApiRanges, served: set[str], reason: dict[str, str]
) -> None:
    found = capabilities_from(ranges)
    assert {f for f in OPTIONAL_FEATURES if found.serves(f)} == served
    assert set(found.reasons) == OPTIONAL_FEATURES - served
    for feature, said in reason.items():
        assert said in found.reason(feature)
