import datetime
import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from credshare.accounts.models import User
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization


def _version_create(*, document: Document, pdf: bytes) -> DocumentVersion:
    latest = document.versions.aggregate(latest=Max("number"))["latest"] or 0
    version = DocumentVersion(
        document=document,
        number=latest + 1,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
    )
    # Written before its row: a rolled-back transaction can leave an orphan file, never a
    # row without its file.
    version.file.save("document.pdf", ContentFile(pdf), save=False)
    version.save()
    return version


@transaction.atomic
def document_issue(
    *,
    issuer: Organization,
    learner: User,
    document_type: str,
    title: str,
    issue_date: datetime.date,
    pdf: bytes,
) -> Document:
    """Put a document, as its first version, into a learner's account."""
    if not issuer.is_issuer:
        raise ValueError(f"{issuer} does not issue documents")
    document = Document.objects.create(
        issuer=issuer,
        learner=learner,
        document_type=document_type,
        title=title,
        issue_date=issue_date,
    )
    _version_create(document=document, pdf=pdf)
    return document


@transaction.atomic
def document_version_add(*, document: Document, pdf: bytes) -> DocumentVersion:
    """A correction: every share of the document serves the new version from now on."""
    Document.objects.select_for_update().only("pk").get(pk=document.pk)
    return _version_create(document=document, pdf=pdf)
