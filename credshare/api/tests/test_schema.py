"""schemathesis against the API's own OpenAPI schema, in process (WSGI), with the keys of two
receiving organizations (École Imaginaire, Acme) and of an issuer: on every operation, no
server error, responses that conform to the schema (statuses, content types, bodies,
headers), and neither receiving key ever reads the other organization's shares.

Path parameters are drawn from the real ids of both organizations' shares and documents (and
random ones), so that every key keeps asking for what is not its own. Derandomized and small,
so that it runs in seconds and the same way every time."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credshare.core import testing
from credshare.documents import bulk

EXAMPLES_PER_OPERATION = 25
# Requests that break the schema on purpose: each must be refused with a 4xx, never a 5xx.
NEGATIVE_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def wsgi_app(settings):
    """The project's WSGI application on the test database. Django closes a connection
    between requests when it is in a transaction other than autocommit; here every request
    runs inside the test's transaction, as under Django's test client (which does the same)."""
    settings.CREDSHARE_API_RATE_LIMIT = 0  # thousands of requests in a few seconds
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def network(ecole_key, acme_key, university_key, share_to_ecole, share_to_acme, zoe, university):
    """Both organizations' shares, the issuer's documents and a job, with their ids."""
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=None,
        rows_file=testing.bulk_jsonl([testing.bulk_row(1, zoe.email)]),
    )
    ecole_documents = [str(d.public_id) for d in share_to_ecole.documents.all()]
    acme_documents = [str(d.public_id) for d in share_to_acme.documents.all()]
    return {
        "keys": {
            "ecole": ecole_key.text,
            "acme": acme_key.text,
            "university": university_key.text,
        },
        # What each receiving organization must never read.
        "secrets": {
            "ecole": [str(share_to_acme.public_id), "ACME-REF-9", *acme_documents],
            "acme": [str(share_to_ecole.public_id), "Réf1234", *ecole_documents],
        },
        "path_values": {
            "share_id": [str(share_to_ecole.public_id), str(share_to_acme.public_id)],
            "document_id": ecole_documents + acme_documents,
            "job_id": [str(job.public_id)],
        },
    }


def keys_for(operation, network) -> dict[str, str]:
    """Both receiving organizations and the issuer on receiving operations; on issuing ones,
    the issuer, and a receiving organization (which must get nothing from them)."""
    keys = network["keys"]
    if operation.path.startswith("/shares"):
        return keys
    return {"university": keys["university"], "ecole": keys["ecole"]}


def run_operation(operation, network, *, mode, examples) -> int:
    """Run EXAMPLES generated requests of OPERATION (in generation MODE) with each key;
    returns the number of requests made."""
    calls = []
    keys = keys_for(operation, network)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        for name in case.path_parameters or {}:
            known = network["path_values"].get(name, [])
            if known:
                case.path_parameters[name] = data.draw(
                    st.one_of(st.sampled_from(known), st.uuids().map(str)), label=name
                )
        for organization, token in keys.items():
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )
            calls.append(response.status_code)
            body = response.content.decode("utf-8", "replace")
            for secret in network["secrets"].get(organization, []):
                assert secret not in body, (organization, case.method, case.formatted_path)

    run()
    return len(calls)


def test_no_operation_fails_or_leaks_another_organizations_shares(wsgi_app, network):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]

    calls = {
        f"{operation.method.upper()} {operation.path}": run_operation(
            operation, network, mode=GenerationMode.POSITIVE, examples=EXAMPLES_PER_OPERATION
        )
        + run_operation(
            operation, network, mode=GenerationMode.NEGATIVE, examples=NEGATIVE_EXAMPLES
        )
        for operation in operations
    }

    assert len(calls) == 12
    assert all(count >= 10 for count in calls.values()), calls
