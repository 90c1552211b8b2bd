"""A quota key set to null means "remove it": the API server must store the null, not prune
it, or the request the operator reads would no longer remove anything and its spec hash
would differ from the one reviewed."""

from pathlib import Path

import yaml

from kcr.model import KafkaChangeRequest
from kcr.plan import spec_hash

from .cluster import ALICE, Cluster
from .test_apiserver_crd import placed

EXAMPLE = Path(__file__).parents[2] / "manifests" / "examples" / "alter-client-quotas.yaml"


def test_a_removed_quota_key_is_stored_as_null(cluster: Cluster, name: str) -> None:
    document = placed(yaml.safe_load(EXAMPLE.read_text()), name)
    alice = cluster.as_person(ALICE)
    created = alice.create(document)
    assert created.status_code == 201, created.text[:500]
    stored = alice.get_request(document["metadata"]["namespace"], name)
    entities = stored["spec"]["change"]["alterClientQuotas"]["entities"]
    assert entities[0]["quotas"] == {"producer_byte_rate": 8388608, "request_percentage": None}
    read = KafkaChangeRequest.model_validate(stored)
    sent = KafkaChangeRequest.model_validate(document)
    assert spec_hash(read.spec) == spec_hash(sent.spec)
