from django.core.management.base import BaseCommand
from django.db import transaction

from credshare.credentials.services import credential_issue, status_list_publish_for
from credshare.documents.models import Document, DocumentVersion


class Command(BaseCommand):
    help = (
        "Sign a Verifiable Credential for every document version that has none (versions "
        "issued before credentials existed). Idempotent; safe to run at every start."
    )

    def handle(self, *args, **options):
        versions = (
            DocumentVersion.objects.filter(credential__isnull=True)
            .select_related("document__issuer", "document__learner")
            .order_by("pk")
        )
        issued = 0
        touched_documents = set()
        for version in versions.iterator():
            with transaction.atomic():
                credential_issue(version)
            issued += 1
            touched_documents.add(version.document_id)
        # Documents withdrawn before they had a status entry: set their bits now.
        for document in Document.objects.filter(pk__in=touched_documents).exclude(
            status=Document.Status.ACTIVE
        ):
            status_list_publish_for(document)
        self.stdout.write(f"{issued} credential(s) issued.")
