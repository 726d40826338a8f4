import datetime
import uuid
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry
from credshare.billing.selectors import credit_needs_for_documents
from credshare.core.errors import ApplicationError
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization
from credshare.sharing.models import Share, ShareAccess


class ShareError(ApplicationError):
    pass


def _lock_learner(learner: User) -> None:
    """Serialize a learner's credit spending: SELECT ... FOR UPDATE on PostgreSQL. SQLite
    needs no row lock: its transactions start IMMEDIATE (see settings), one writer at a time."""
    User.objects.select_for_update().only("pk").get(pk=learner.pk)


def share_create_with_organization(
    *,
    owner: User,
    document_ids: Sequence[int],
    recipient: Organization,
    submission_token: uuid.UUID,
    name: str = "",
    purpose: str = "",
    reference: str = "",
    field_values: dict | None = None,
    expires_on: datetime.date | None = None,
    confirmed_credit_use: bool = False,
) -> Share:
    """Share the owner's documents with a participating organization, spending one credit
    from each issuer that charges for sharing. Submitting the same token again returns the
    share already made, so a double click or a retry never shares or spends twice."""
    with transaction.atomic():
        _lock_learner(owner)
        existing = Share.objects.filter(owner=owner, submission_token=submission_token).first()
        if existing is not None:
            return existing

        documents = list(
            Document.objects.filter(pk__in=set(document_ids), learner=owner).select_related(
                "issuer"
            )
        )
        if not documents or len(documents) != len(set(document_ids)):
            raise ShareError(_("Choose at least one of your documents."), code="no_documents")
        if any(not document.is_active for document in documents):
            raise ShareError(
                _("A withdrawn or revoked document cannot be shared."), code="document_inactive"
            )
        if not (recipient.is_receiver and recipient.listed_in_directory):
            raise ShareError(
                _("Choose a participating organization from the list."),
                code="recipient_not_participating",
                field="recipient",
            )
        if expires_on is not None and expires_on < timezone.localdate():
            raise ShareError(
                _("The expiry date cannot be in the past."), code="expiry_past", field="expires_on"
            )

        needs = credit_needs_for_documents(learner=owner, documents=documents)
        short = [need.issuer.name for need in needs if not need.is_covered]
        if short:
            raise ShareError(
                _("You have no shares left for documents from %(issuers)s.")
                % {"issuers": ", ".join(short)},
                code="no_credit",
            )
        if needs and not confirmed_credit_use:
            raise ShareError(
                _("Please confirm the use of a share."),
                code="credit_use_not_confirmed",
                field="confirm_credit_use",
            )

        share = Share.objects.create(
            owner=owner,
            channel=Share.Channel.ORGANIZATION,
            recipient_organization=recipient,
            name=name,
            purpose=purpose,
            reference=reference,
            field_values=field_values or {},
            expires_on=expires_on,
            submission_token=submission_token,
        )
        share.documents.set(documents)
        CreditEntry.objects.bulk_create(
            CreditEntry(
                learner=owner,
                issuer=need.issuer,
                kind=CreditEntry.Kind.SPEND,
                amount=-1,
                share=share,
            )
            for need in needs
        )
        return share


def share_revoke(*, share: Share) -> Share:
    """Stop a share from giving access, from the recipient's next request on."""
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
    return share


def share_access_record(
    *,
    share: Share,
    action: str,
    user: User | None = None,
    organization: Organization | None = None,
    document: Document | None = None,
    version: DocumentVersion | None = None,
) -> ShareAccess:
    return ShareAccess.objects.create(
        share=share,
        action=action,
        user=user,
        organization=organization,
        document=document,
        version=version,
    )
