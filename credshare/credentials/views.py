"""Public documents that verifiers resolve (issuers' DID documents, status lists) and the
learner's own credential download."""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from credshare.billing.selectors import locked_document_ids
from credshare.credentials.keys import did_document
from credshare.credentials.selectors import (
    current_credential,
    issuer_with_keys_or_404,
    status_list_or_404,
)
from credshare.documents.selectors import document_of_learner_or_404


@require_GET
def issuer_did_document(request: HttpRequest, slug: str) -> JsonResponse:
    """did:web resolution: did:web:<host>:issuers:<slug> → /issuers/<slug>/did.json."""
    issuer, keys = issuer_with_keys_or_404(slug=slug)
    response = JsonResponse(did_document(issuer, keys), content_type="application/did+json")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def status_list_credential(request: HttpRequest, slug: str, number: int) -> JsonResponse:
    status_list = status_list_or_404(slug=slug, number=number)
    response = JsonResponse(status_list.credential, content_type="application/vc+ld+json")
    # Short: a withdrawal must reach verifiers quickly.
    response["Cache-Control"] = "public, max-age=60"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@login_required
@require_GET
def document_credential(request: HttpRequest, pk: int) -> HttpResponse:
    """The learner's own credential for a document (its newest version), as a JSON file to
    hand to a wallet. A document locked until its fee is paid gives none."""
    document = document_of_learner_or_404(learner=request.user, pk=pk)
    credential = current_credential(document)
    if credential is None or locked_document_ids(documents=[document]):
        from django.http import Http404

        raise Http404
    response = HttpResponse(
        json.dumps(credential.credential, ensure_ascii=False, indent=2),
        content_type="application/vc+ld+json; charset=utf-8",
    )
    name = slugify(document.title) or "credential"
    response["Content-Disposition"] = f'attachment; filename="{name}.credential.json"'
    response["Cache-Control"] = "private, no-store"
    return response
