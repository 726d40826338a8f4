from django.shortcuts import get_object_or_404

from credshare.documents.models import Document
from credshare.documents.selectors import newest_versions_first


def document_for_verification_or_404(*, public_id) -> Document:
    """A document by the public id printed on it and in its QR code."""
    return get_object_or_404(
        Document.objects.select_related("issuer", "learner").prefetch_related(
            newest_versions_first()
        ),
        public_id=public_id,
    )
