"""A real kube-apiserver (with etcd) for the admission, CRD, RBAC and TokenReview tests.

``make apiserver`` builds both binaries before ``make test``; a cold build takes minutes,
so it never happens inside a test. Without the binaries every test here is skipped with
that reason, unless ``KCR_REQUIRE_APISERVER=1`` (CI) turns the skip into a failure.
"""

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import missing_tool

from .cluster import ADMIN, PEOPLE, Cluster, install
from .server import api_server, missing_binaries

REQUIRE_ENV = "KCR_REQUIRE_APISERVER"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = missing_binaries()
    if missing:
        reason = f"no API server binaries ({', '.join(map(str, missing))}): run `make apiserver`"
        missing_tool(reason, REQUIRE_ENV)
    with api_server(tmp_path_factory.mktemp("apiserver"), PEOPLE, ADMIN) as server:
        installed = Cluster(server)
        try:
            install(installed)
            yield installed
        finally:
            installed.close()


@pytest.fixture
def name() -> str:
    return f"kcr-{uuid.uuid4().hex[:8]}"
