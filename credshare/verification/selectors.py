import hashlib
from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from credshare.documents.models import Document, DocumentVersion
from credshare.documents.selectors import newest_versions_first


def document_for_verification_or_404(*, public_id) -> Document:
    """A document by the public id printed on it and in its QR code."""
    return get_object_or_404(
        Document.objects.select_related("issuer", "learner").prefetch_related(
            newest_versions_first()
        ),
        public_id=public_id,
    )


@dataclass(frozen=True)
class FileMatch:
    """What an uploaded file is, compared with the versions we issued of a document."""

    verdict: str  # "current", "superseded" or "unknown"
    version: DocumentVersion | None


def match_file(*, document: Document, data: bytes) -> FileMatch:
    """Compare a file's SHA-256 with every version of the document (versions prefetched,
    newest first): the newest is current, an older one superseded, none means altered or
    not issued by us."""
    digest = hashlib.sha256(data).hexdigest()
    versions = list(document.versions.all())
    for index, version in enumerate(versions):
        if version.sha256 == digest:
            return FileMatch("current" if index == 0 else "superseded", version)
    return FileMatch("unknown", None)
