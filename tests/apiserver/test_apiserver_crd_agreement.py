"""The unit suite's in-process API server (``admit``) judges as the real one does.

tests/unit/test_crd_agreement.py draws ``spec.change`` objects, most of them broken, and
holds ``admit`` (schema, defaults, pruning and CEL, emulated) to pydantic's verdict. Here the
same drawings go to the real API server as dry-run creates: it must admit exactly those
``admit`` admits, so the emulation the unit tests lean on is checked against Kubernetes.
"""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_crd_agreement import union_shapes, well_formed_changes
from tests.unit.test_crd_apiserver import admit
from tests.unit.test_crd_cel import change_request

from .cluster import ALICE, Cluster
from .test_apiserver_crd import placed

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(change=st.one_of(well_formed_changes(), union_shapes()))
def test_admit_and_the_api_server_agree(cluster: Cluster, change: dict[str, Any]) -> None:
    resource = placed(json.loads(json.dumps(change_request(change))), "agreement")
    stand_in = admit("KafkaChangeRequest", resource)
    answer = cluster.as_person(ALICE).create(resource, dry_run=True)
    assert answer.is_success == (stand_in == []), (
        f"API server ({answer.status_code}): {answer.json().get('message', 'admitted')}\n"
        f"admit: {stand_in or 'admitted'}"
    )
