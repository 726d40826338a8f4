"""Models as the API shows them. Shares and documents come loaded by credshare.api.selectors
(related rows and versions prefetched): showing them makes no query. A job's progress is
counted when it is shown."""

import functools

from django.conf import settings
from django.urls import reverse

from credshare.api import schemas
from credshare.api.selectors import document_versions, share_field_values
from credshare.documents.bulk import issuance_job_progress
from credshare.documents.models import Document, IssuanceJob
from credshare.sharing.models import Share


@functools.cache
def _api_root() -> str:
    return reverse("api:api-root")


def absolute_url(path: str) -> str:
    """The URL of PATH (under the API's root) on the address credshare is reached at, as links
    in its emails are. Built by hand, not reversed: a page of shares has hundreds of them."""
    return settings.CREDSHARE_BASE_URL.rstrip("/") + _api_root() + path


def _learner(user) -> schemas.LearnerOut:
    return schemas.LearnerOut(name=user.full_name or "", email=user.email)


def share_out(share: Share) -> schemas.ShareOut:
    documents = []
    for document in share.documents.all():
        versions = document_versions(document)
        if not versions:  # a document is issued with its first version; never absent
            continue
        version = versions[0]
        documents.append(
            schemas.SharedDocumentOut(
                id=document.public_id,
                type=document.document_type,
                title=document.title,
                issuer=schemas.IssuerOut(slug=document.issuer.slug, name=document.issuer.name),
                issue_date=document.issue_date,
                status=document.status,
                version=version.number,
                sha256=version.sha256,
                size=version.size,
                download_url=absolute_url(
                    f"shares/{share.public_id}/documents/{document.public_id}/pdf"
                ),
            )
        )
    return schemas.ShareOut(
        id=share.public_id,
        state=share.state,
        reference=share.reference,
        learner=_learner(share.owner),
        fields=[
            schemas.ShareFieldOut(key=key, label=label, value=value, display_value=shown)
            for key, label, value, shown in share_field_values(share)
        ],
        documents=documents,
        created=share.created,
        expires_on=share.expires_on,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        processed_at=share.processed_at,
    )


def issued_document_out(document: Document) -> schemas.IssuedDocumentOut:
    versions = document_versions(document)
    current = versions[0]
    return schemas.IssuedDocumentOut(
        id=document.public_id,
        external_id=document.external_id,
        student_number=document.student_number,
        learner=schemas.LearnerOut(
            name=document.learner_full_name or "", email=document.learner_address
        ),
        learner_has_account=document.is_claimed,
        type=document.document_type,
        title=document.title,
        issue_date=document.issue_date,
        valid_until=document.valid_until,
        status=document.status,
        status_reason=document.status_reason,
        status_changed_at=document.status_changed_at,
        version=schemas.VersionOut(
            number=current.number, sha256=current.sha256, size=current.size, created=current.created
        ),
        versions_count=len(versions),
        created=document.created,
    )


def job_out(job: IssuanceJob) -> schemas.JobOut:
    progress = issuance_job_progress(job=job)
    return schemas.JobOut(
        id=job.public_id,
        status=job.status,
        source=job.source,
        total=job.total,
        error=job.error,
        created=job.created,
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=schemas.JobProgress(
            done=progress["done"],
            issued=progress["issued"],
            rejected=progress["rejected"],
            remaining=progress["remaining"],
            total=progress["total"],
            percent=progress["percent"],
            rate=progress["rate"],
            seconds_left=progress["seconds_left"],
            finished=progress["finished"],
        ),
        rejections_url=absolute_url(f"jobs/{job.public_id}/rejections"),
    )
