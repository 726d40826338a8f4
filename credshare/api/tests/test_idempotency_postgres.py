"""The same POST with the same Idempotency-Key, sent 5 times at once on PostgreSQL, where the
requests really run in parallel: one effect, and the same response to each."""

import threading

import pytest
from django.db import connection

from credshare.api.models import IdempotencyRecord
from credshare.api.tests.conftest import ApiClient
from credshare.api.tests.test_documents import issue_body
from credshare.documents.models import Document

THREADS = 5

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def post_at_once(token: str, path: str, body, headers: dict) -> list:
    """POST BODY to PATH from THREADS clients at the same moment. Returns each response's
    (status, content), or ("crashed", exception)."""
    barrier = threading.Barrier(THREADS)
    outcomes = [None] * THREADS

    def send(index: int) -> None:
        try:
            client = ApiClient(token)
            barrier.wait(timeout=30)
            response = client.post(path, body, headers=headers)
            outcomes[index] = (response.status_code, response.content)
        except Exception as error:  # reported by the test as a crash, never swallowed
            outcomes[index] = ("crashed", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_five_identical_issues_at_once_issue_one_document(university_key, zoe):
    body = issue_body(external_id="")  # the Idempotency-Key alone keeps it to one

    outcomes = post_at_once(
        university_key.text, "/documents", body, {"Idempotency-Key": "five-at-once"}
    )

    assert [o for o in outcomes if o[0] == "crashed"] == []
    assert Document.objects.count() == 1
    assert {status for status, _content in outcomes} == {201}
    assert len({content for _status, content in outcomes}) == 1
    assert IdempotencyRecord.objects.count() == 1


def test_five_identical_marks_at_once_get_one_answer(ecole_key, share_to_ecole):
    path = f"/shares/{share_to_ecole.public_id}/processed"

    outcomes = post_at_once(ecole_key.text, path, None, {"Idempotency-Key": "mark-once"})

    assert [o for o in outcomes if o[0] == "crashed"] == []
    assert {status for status, _content in outcomes} == {200}
    assert len({content for _status, content in outcomes}) == 1
    share_to_ecole.refresh_from_db()
    assert share_to_ecole.processed_at is not None
