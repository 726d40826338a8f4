from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from credshare.accounts.models import User
from credshare.documents.models import Document, DocumentVersion


def documents_of_learner(*, learner: User) -> QuerySet[Document]:
    """The learner's own documents, newest first, with their issuer."""
    return (
        Document.objects.filter(learner=learner)
        .select_related("issuer")
        .order_by("-issue_date", "-id")
    )


def document_of_learner_or_404(*, learner: User, pk: int) -> Document:
    """The learner's document; anybody else's is a 404, as if it did not exist."""
    return get_object_or_404(documents_of_learner(learner=learner), pk=pk)


def newest_versions_first() -> Prefetch:
    """Prefetch a document's versions newest first: `document.versions.all()[0]` is current."""
    return Prefetch("versions", queryset=DocumentVersion.objects.order_by("-number"))


def current_version(document: Document) -> DocumentVersion | None:
    """The version everybody is served. Uses prefetched versions when there are some."""
    if "versions" in getattr(document, "_prefetched_objects_cache", {}):
        versions = list(document.versions.all())
        return versions[0] if versions else None
    return document.versions.order_by("-number").first()
