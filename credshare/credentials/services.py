"""Issuing credentials and keeping status lists current."""

import secrets
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from credshare.credentials import builders
from credshare.credentials.dataintegrity import add_proof
from credshare.credentials.keys import (
    ensure_credential_key,
    issuer_did,
    private_key_of,
    verification_method_id,
)
from credshare.credentials.models import IssuedCredential, StatusEntry, StatusList
from credshare.credentials.status_lists import encode
from credshare.documents.models import Document, DocumentVersion

# Random placement retries before a list counts as full: at 8 misses in a row the list is
# almost surely more than half full (0.5^8 < 0.4%), so new entries go to a fresh list.
ALLOCATION_ATTEMPTS = 8


def _sign(content: dict, issuer) -> dict:
    key = ensure_credential_key(issuer)
    return add_proof(
        content,
        private_key=private_key_of(key),
        verification_method=verification_method_id(key),
        created=timezone.now(),
    )


def _signed_list(status_list: StatusList, revoked_indexes) -> dict:
    content = builders.status_list_content(
        issuer=status_list.issuer,
        issuer_did=issuer_did(status_list.issuer),
        number=status_list.number,
        encoded_list=encode(revoked_indexes, StatusList.SIZE),
    )
    return _sign(content, status_list.issuer)


def _open_list(issuer) -> StatusList:
    """The issuer's newest list that still takes entries, made when there is none."""
    newest = StatusList.objects.filter(issuer=issuer).order_by("-number").first()
    if newest is not None and not newest.is_full:
        return newest
    number = newest.number + 1 if newest else 1
    try:
        with transaction.atomic():
            status_list = StatusList(issuer=issuer, number=number)
            status_list.credential = _signed_list(status_list, [])
            status_list.save()
            return status_list
    except IntegrityError:
        # Another worker made it first.
        return StatusList.objects.get(issuer=issuer, number=number)


def status_entry_allocate(document: Document) -> StatusEntry:
    """The document's entry in a status list, at a random free index."""
    existing = StatusEntry.objects.filter(document=document).select_related("status_list").first()
    if existing is not None:
        return existing
    while True:
        status_list = _open_list(document.issuer)
        for _attempt in range(ALLOCATION_ATTEMPTS):
            try:
                with transaction.atomic():
                    return StatusEntry.objects.create(
                        document=document,
                        status_list=status_list,
                        index=secrets.randbelow(StatusList.SIZE),
                    )
            except IntegrityError:
                continue
        StatusList.objects.filter(pk=status_list.pk).update(is_full=True)


def credential_issue(version: DocumentVersion) -> IssuedCredential:
    """Sign the Verifiable Credential of a new version of a document."""
    document = version.document
    entry = status_entry_allocate(document)
    public_id = uuid.uuid4()
    content = builders.credential_content(
        version=version,
        credential_id=f"urn:uuid:{public_id}",
        issuer_did=issuer_did(document.issuer),
        status_list_number=entry.status_list.number,
        status_index=entry.index,
    )
    return IssuedCredential.objects.create(
        public_id=public_id, version=version, credential=_sign(content, document.issuer)
    )


@transaction.atomic
def status_list_publish_for(document: Document) -> None:
    """Re-sign the status list that holds the document's entry, after its status changed:
    withdrawn and revoked documents have their bit set."""
    entry = StatusEntry.objects.filter(document=document).first()
    if entry is None:
        return
    # One writer per list at a time: two withdrawals never publish each other's stale bits.
    status_list = StatusList.objects.select_for_update().get(pk=entry.status_list_id)
    revoked = StatusEntry.objects.filter(status_list=status_list).exclude(
        document__status=Document.Status.ACTIVE
    )
    status_list.credential = _signed_list(status_list, revoked.values_list("index", flat=True))
    status_list.save(update_fields=["credential", "updated"])
