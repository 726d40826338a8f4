"""Issuers: issue documents, add versions, withdraw or revoke, and run bulk issuance jobs, as
the issuer portal does. Only the key's organization's documents and jobs."""

import uuid
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Status, UploadedFile

from credshare.api import schemas
from credshare.api.auth import ApiKeyAuth, Body
from credshare.api.idempotency import idempotent
from credshare.api.models import ApiKey
from credshare.api.openapi import CSV_RESPONSE, error_responses
from credshare.api.output import issued_document_out, job_out
from credshare.api.selectors import issued_document_or_404, job_of_issuer_or_404
from credshare.api.services import (
    api_document_add_version,
    api_document_issue,
    api_document_withdraw,
    api_issuance_job_submit,
)
from credshare.documents.bulk import issuance_rejections_csv

documents_router = Router(tags=["Documents issued"])
jobs_router = Router(tags=["Bulk issuance"])

Scope = ApiKey.Scope


def _record(payload: schemas.PdfOrRecord) -> dict | None:
    return payload.record.model_dump() if payload.record is not None else None


@documents_router.post(
    "/documents",
    response={
        200: schemas.IssuedDocumentOut,
        201: schemas.IssuedDocumentOut,
        **error_responses(400, 401, 403, 413, 422, 429),
    },
    auth=ApiKeyAuth(Scope.DOCUMENTS_ISSUE, body=Body.JSON_WITH_PDF),
    url_name="documents",
    summary="Issue a document",
)
@idempotent
def document_issue(request: HttpRequest, payload: schemas.DocumentIn):
    """Put a document into the account of the learner at `learner_email`; with no account
    there yet, the document waits for the learner (`learner_has_account` false), who is
    invited by email to claim it (`learner_name` is then required). Either your PDF
    (`pdf_base64`; no JavaScript, launch actions, embedded files or encryption), or a
    transcript's data (`record`), which credshare renders as a PDF. credshare signs the PDF.
    201 with the new document; 200 with the document already issued under the same
    `external_id`. Scope `documents:issue`."""
    document, created = api_document_issue(
        issuer=request.auth.organization,
        learner_email=payload.learner_email,
        learner_name=payload.learner_name,
        language=payload.language,
        document_type=payload.type,
        title=payload.title,
        issue_date=payload.issue_date,
        pdf=payload.pdf_bytes(),
        record=_record(payload),
        external_id=payload.external_id,
        student_number=payload.student_number,
        valid_until=payload.valid_until,
    )
    document = issued_document_or_404(
        issuer=request.auth.organization, document_id=document.public_id
    )
    return Status(201 if created else 200, issued_document_out(document))


@documents_router.get(
    "/documents/{document_id}",
    response={200: schemas.IssuedDocumentOut, **error_responses(401, 403, 404, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.DOCUMENTS_ISSUE, Scope.DOCUMENTS_WITHDRAW),
    url_name="document",
    summary="Get a document issued",
)
def document_detail(request: HttpRequest, document_id: uuid.UUID):
    """One of your organization's documents, with its current version and status. Scope
    `documents:issue` or `documents:withdraw`."""
    return issued_document_out(
        issued_document_or_404(issuer=request.auth.organization, document_id=document_id)
    )


@documents_router.post(
    "/documents/{document_id}/versions",
    response={
        201: schemas.IssuedDocumentOut,
        **error_responses(400, 401, 403, 404, 409, 413, 422, 429),
    },
    auth=ApiKeyAuth(Scope.DOCUMENTS_ISSUE, body=Body.JSON_WITH_PDF),
    url_name="document_versions",
    summary="Add a corrected version",
)
@idempotent
def document_version_add(request: HttpRequest, document_id: uuid.UUID, payload: schemas.VersionIn):
    """A corrected version of an active document, from a PDF or a transcript's data (which
    then becomes the document's data). Every live share serves it at once, and the learner
    is told by email. A withdrawn or revoked document is a 409 `document_not_active`. Scope
    `documents:issue`."""
    issuer = request.auth.organization
    document = issued_document_or_404(issuer=issuer, document_id=document_id)
    api_document_add_version(document=document, pdf=payload.pdf_bytes(), record=_record(payload))
    document = issued_document_or_404(issuer=issuer, document_id=document_id)
    return Status(201, issued_document_out(document))


@documents_router.post(
    "/documents/{document_id}/withdraw",
    response={
        200: schemas.IssuedDocumentOut,
        **error_responses(400, 401, 403, 404, 409, 413, 422, 429),
    },
    auth=ApiKeyAuth(Scope.DOCUMENTS_WITHDRAW, body=Body.JSON),
    url_name="document_withdraw",
    summary="Withdraw or revoke a document",
)
@idempotent
def document_withdraw(request: HttpRequest, document_id: uuid.UUID, payload: schemas.WithdrawIn):
    """Withdraw (`revoke: false`: the document no longer applies) or revoke (`revoke: true`:
    it should never have been issued) an active document, with a reason the learner sees.
    Its shares stop serving it (410 `document_withdrawn`) and its credentials are marked
    revoked. Scope `documents:withdraw`."""
    issuer = request.auth.organization
    document = issued_document_or_404(issuer=issuer, document_id=document_id)
    api_document_withdraw(document=document, reason=payload.reason, revoke=payload.revoke)
    return issued_document_out(issued_document_or_404(issuer=issuer, document_id=document_id))


@jobs_router.post(
    "/jobs",
    response={202: schemas.JobOut, **error_responses(400, 401, 403, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.JOBS_RUN, body=Body.MULTIPART),
    url_name="jobs",
    summary="Start a bulk issuance job",
)
@idempotent
def job_create(
    request: HttpRequest,
    rows: Annotated[
        UploadedFile,
        File(
            description="A CSV (.csv; columns external_id, student_number, email, first_name, "
            "last_name, document_type, title, issue_date, file) or JSON Lines (.jsonl) of "
            "transcripts, one document a row."
        ),
    ],
    pdf_archive: Annotated[
        UploadedFile | None,
        File(description="With a CSV: a ZIP of the PDFs its `file` column names."),
    ] = None,
):
    """Queue a bulk issuance: each row is issued or rejected on its own, in the background;
    rows are idempotent on `external_id` (running the same file again issues nothing twice).
    A file refused as a whole is a 400 with the reason's code (`missing_columns`,
    `archive_corrupt`, `zip_bomb`, …). 202 with the job; follow it with `GET /jobs/{id}`.
    Scope `jobs:run`."""
    job = api_issuance_job_submit(
        issuer=request.auth.organization, rows_file=rows, pdf_archive=pdf_archive
    )
    return Status(202, job_out(job))


@jobs_router.get(
    "/jobs/{job_id}",
    response={200: schemas.JobOut, **error_responses(401, 403, 404, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.JOBS_RUN),
    url_name="job",
    summary="Follow a bulk issuance job",
)
def job_detail(request: HttpRequest, job_id: uuid.UUID):
    """Where the job stands: rows issued, rejected and remaining, the rate, an estimate of
    the time left. Scope `jobs:run`."""
    return job_out(job_of_issuer_or_404(issuer=request.auth.organization, job_id=job_id))


@jobs_router.get(
    "/jobs/{job_id}/rejections",
    response={200: None, **error_responses(401, 403, 404, 413, 422, 429)},
    auth=ApiKeyAuth(Scope.JOBS_RUN),
    url_name="job_rejections",
    summary="The rejected rows of a job",
    openapi_extra={"responses": {200: CSV_RESPONSE}},
)
def job_rejections(request: HttpRequest, job_id: uuid.UUID):
    """The job's rejected rows so far as CSV (row, external_id, reason), as the portal's
    report. Scope `jobs:run`."""
    job = job_of_issuer_or_404(issuer=request.auth.organization, job_id=job_id)
    response = HttpResponse(
        issuance_rejections_csv(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{job.public_id}.csv"'
    response["Cache-Control"] = "no-store"
    return response
