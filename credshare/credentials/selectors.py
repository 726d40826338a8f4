from django.shortcuts import get_object_or_404

from credshare.credentials.models import CredentialKey, IssuedCredential, StatusList
from credshare.network.models import Organization


def issuer_with_keys_or_404(*, slug: str) -> tuple[Organization, list[CredentialKey]]:
    """An issuer that has signed credentials, with every key it has signed with."""
    issuer = get_object_or_404(Organization, slug=slug, is_issuer=True)
    keys = list(CredentialKey.objects.filter(issuer=issuer).order_by("created", "pk"))
    if not keys:
        from django.http import Http404

        raise Http404
    return issuer, keys


def status_list_or_404(*, slug: str, number: int) -> StatusList:
    return get_object_or_404(StatusList, issuer__slug=slug, number=number)


def current_credential(document) -> IssuedCredential | None:
    """The credential of the document's newest version."""
    return (
        IssuedCredential.objects.filter(version__document=document)
        .order_by("-version__number")
        .first()
    )
