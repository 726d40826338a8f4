"""Reads of the audit log: an organization's entries, and the chain's verdict."""

from django.db.models import Prefetch, QuerySet

from credshare.audit.chain import Verdict, chain_check
from credshare.audit.models import AuditEntry, AuditEntryOrganization
from credshare.network.models import Organization

# Entries are read in chunks of this many when the whole chain is checked.
VERIFY_CHUNK = 2000


def entries_of_organization(*, organization: Organization) -> QuerySet[AuditEntry]:
    """The entries concerning ORGANIZATION, newest first, with the acting user."""
    return (
        AuditEntry.objects.filter(organizations__organization=organization)
        .select_related("actor_user")
        .order_by("-sequence")
    )


def chain_verify() -> Verdict:
    """Check every entry, oldest first, in chunks (with their organization links), stopping
    at the first that does not hold."""
    links = Prefetch(
        "organizations",
        queryset=AuditEntryOrganization.objects.order_by("organization_id"),
        to_attr="links",
    )
    entries = AuditEntry.objects.order_by("sequence").prefetch_related(links)

    def with_linked_ids():
        for entry in entries.iterator(chunk_size=VERIFY_CHUNK):
            entry.linked_ids = [link.organization_id for link in entry.links]
            yield entry

    return chain_check(with_linked_ids())
