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


def documents_of_issuer(
    *,
    issuer,
    learner: str = "",
    document_type: str = "",
    status: str = "",
    issued_from=None,
    issued_to=None,
) -> QuerySet[Document]:
    """The issuer's documents, newest first, filtered, each with its learner, its number of
    versions (`versions_count`) and of live shares pointing at it (`live_shares_count`):
    no query per row. Nothing of the shares themselves (their names, purposes) is read."""
    from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
    from django.db.models.functions import Coalesce

    from credshare.sharing.models import Share

    def count_of(queryset) -> Coalesce:
        counted = queryset.order_by().values("document_id").annotate(n=Count("*")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    shares_through = Share.documents.through
    documents = Document.objects.filter(issuer=issuer)
    if learner:
        documents = documents.filter(
            Q(learner__full_name__icontains=learner)
            | Q(learner__email__icontains=learner)
            # As issued: what finds a document still waiting for its learner's account.
            | Q(learner_email__icontains=learner)
            | Q(learner_name__icontains=learner)
            | Q(student_number=learner.strip())
        )
    if document_type:
        documents = documents.filter(document_type=document_type)
    if status:
        documents = documents.filter(status=status)
    if issued_from:
        documents = documents.filter(issue_date__gte=issued_from)
    if issued_to:
        documents = documents.filter(issue_date__lte=issued_to)
    return (
        documents.select_related("learner")
        .annotate(
            versions_count=count_of(DocumentVersion.objects.filter(document=OuterRef("pk"))),
            live_shares_count=count_of(
                shares_through.objects.filter(
                    document=OuterRef("pk"), share__in=Share.objects.live().values("pk")
                )
            ),
        )
        .order_by("-issue_date", "-id")
    )


def document_of_issuer_or_404(*, issuer, pk: int) -> Document:
    """One of the issuer's documents, with its counts; another issuer's is a 404."""
    return get_object_or_404(
        documents_of_issuer(issuer=issuer).select_related("issuer", "learner"), pk=pk
    )


def version_of_document_or_404(*, document: Document, number: int) -> DocumentVersion:
    return get_object_or_404(DocumentVersion, document=document, number=number)
