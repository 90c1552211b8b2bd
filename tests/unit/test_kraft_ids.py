"""Cluster ids for Apache Kafka's storage tool: Kafka Uuids it accepts as an argument."""

import base64

from kcr.embedded.kraft import new_cluster_id


def test_cluster_ids_are_uuids_the_storage_tool_does_not_read_as_options() -> None:
    """One random id in 64 would start with "-"; thousands make that certain to come up."""
    ids = [new_cluster_id() for _ in range(4000)]
    assert not [i for i in ids if i.startswith("-")]
    assert {len(base64.urlsafe_b64decode(i + "==")) for i in ids} == {16}
    assert len(set(ids)) == len(ids)
