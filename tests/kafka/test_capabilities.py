"""Which optional APIs kcr uses, from a broker's ApiVersions answer, each on its own."""

import pytest

from kcr.kafka.apiversions import (
    ALTER_CLIENT_QUOTAS,
    ALTER_PARTITION_REASSIGNMENTS,
    CREATE_ACLS,
    CREATE_PARTITIONS,
    DELETE_ACLS,
    DESCRIBE_ACLS,
    DESCRIBE_CLIENT_QUOTAS,
    DESCRIBE_LOG_DIRS,
    ELECT_LEADERS,
    ApiRanges,
    capabilities_from,
)
from kcr.kafka.readmodel import OPTIONAL_FEATURES

ALL = {
    CREATE_PARTITIONS: (0, 3),
    DESCRIBE_ACLS: (1, 3),
    CREATE_ACLS: (1, 3),
    DELETE_ACLS: (1, 3),
    DESCRIBE_LOG_DIRS: (1, 5),
    ELECT_LEADERS: (0, 2),
    ALTER_PARTITION_REASSIGNMENTS: (0, 1),
    DESCRIBE_CLIENT_QUOTAS: (0, 1),
    ALTER_CLIENT_QUOTAS: (0, 1),
}
# What tansu 0.6 answered to ApiVersions (measured): no API key 31, 35, 37, 43, 45, 48, 49.
TANSU_KEYS = {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 26}
TANSU_KEYS |= {28, 29, 30, 32, 36, 42, 44, 46, 50, 51, 60, 69, 71, 75}


def _without(*keys: int) -> ApiRanges:
    return {k: v for k, v in ALL.items() if k not in keys}


@pytest.mark.parametrize(
    ("ranges", "served", "reason"),
    [
        (ALL, OPTIONAL_FEATURES, {}),
        (
            _without(CREATE_PARTITIONS),
            OPTIONAL_FEATURES - {"createPartitions"},
            {"createPartitions": "does not serve CreatePartitions (API key 37)"},
        ),
        (
            {key: (0, 4) for key in TANSU_KEYS},
            {"describeAcls"},
            {
                "createAcls": "a binding kcr granted could not be revoked by a rollback",
                "describeLogDirs": "does not serve DescribeLogDirs (API key 35)",
                "electLeaders": "does not serve ElectLeaders (API key 43)",
                "alterPartitionReassignments": "(API key 45)",
                "describeClientQuotas": "does not serve DescribeClientQuotas (API key 48)",
                "alterClientQuotas": "does not serve AlterClientQuotas (API key 49)",
            },
        ),
        (
            _without(DESCRIBE_ACLS),
            OPTIONAL_FEATURES - {"describeAcls"},
            {"describeAcls": "does not serve DescribeAcls (API key 29)"},
        ),
        (
            _without(ALTER_CLIENT_QUOTAS),
            OPTIONAL_FEATURES - {"alterClientQuotas"},
            {"alterClientQuotas": "does not serve AlterClientQuotas (API key 49)"},
        ),
        (_without(*ALL), set(), {"deleteAcls": "does not serve DeleteAcls (API key 31)"}),
    ],
    ids=["kafka", "no-create-partitions", "tansu", "no-describe", "quotas-read-only", "none"],
)
def test_each_api_is_used_where_the_broker_serves_it(
    ranges: ApiRanges, served: set[str], reason: dict[str, str]
) -> None:
    found = capabilities_from(ranges)
    assert {f for f in OPTIONAL_FEATURES if found.serves(f)} == served
    assert set(found.reasons) == OPTIONAL_FEATURES - served
    for feature, said in reason.items():
        assert said in found.reason(feature)
