"""The collection-fee lock, over every path to a document's contents or data: the learner's
pages, PDF and credential; the privacy export; the receiving organization's inbox; email and
link shares; the API. A document whose fee is unpaid (never paid, or paid then refunded) gives
nothing on any of them and each says it is locked; once paid, each serves it.

The shares are made while the issuer asks no fee and the fee is set afterwards: the way a
recipient can hold a share of a document that is locked now."""

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.billing.models import Purchase
from credshare.billing.providers import SandboxProvider
from credshare.billing.services import payment_event_apply, purchase_refund, purchase_start
from credshare.core import testing
from credshare.sharing.recipient_views import GRANTS, VERIFIED

pytestmark = pytest.mark.django_db

TITLE = "Diploma of arts"
LOCKED_LINE = "Locked until its collection fee is paid"
RECIPIENT_LOCKED_LINE = "Locked until the learner pays its collection fee"


@dataclass
class World:
    learner: object
    document: object
    org_share: object
    link_share: object
    email_share: object
    camille: object
    api_token: str


@dataclass
class Seen:
    """What one path gave: the document's contents (or data), and a message saying it is
    locked."""

    contents: bool
    says_locked: bool


def pay(learner, document) -> Purchase:
    purchase = purchase_start(learner=learner, provider="sandbox", document=document)
    event = SandboxProvider.button_event(purchase=purchase, kind="completed")
    return payment_event_apply(provider="sandbox", event=event)


@pytest.fixture(params=["never_paid", "refunded", "paid"])
def state(request) -> str:
    return request.param


@pytest.fixture
def world(state, zoe, free_college, ecole, camille) -> World:
    document = testing.make_document(zoe, free_college, TITLE)
    org_share = testing.share_with(
        zoe, [document], ecole, field_values={"application_number": "A-1"}
    )
    link_share, _token = testing.share_by_link(zoe, [document])
    email_share = testing.share_by_email(zoe, [document], "friend@example.net")
    testing.set_fee_policy(free_college, collection_fee_cents=1500)
    if state != "never_paid":
        purchase = pay(zoe, document)
        if state == "refunded":
            staff = testing.make_issuer_staff(free_college, "cashier@free-college.example")
            purchase_refund(purchase=purchase, by=staff)
    _key, token = api_key_create(
        organization=ecole, name="SIS", scopes=list(ApiKey.RECEIVING_SCOPES), by=None
    )
    return World(zoe, document, org_share, link_share, email_share, camille, token)


def _learner(world: World) -> Client:
    client = Client()
    client.force_login(world.learner)
    return client


def _is_pdf(response) -> bool:
    return response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def _refused_page(response) -> bool:
    return response.status_code == 403 and "This document is locked" in response.content.decode()


def learner_page(world: World) -> Seen:
    page = _learner(world).get(reverse("documents:detail", args=[world.document.pk]))
    text = page.content.decode()
    return Seen(
        reverse("documents:view", args=[world.document.pk]) in text,
        reverse("billing:pay_collection", args=[world.document.pk]) in text,
    )


def _learner_file(name: str) -> Callable[[World], Seen]:
    def path(world: World) -> Seen:
        response = _learner(world).get(reverse(name, args=[world.document.pk]))
        return Seen(_is_pdf(response), _refused_page(response))

    return path


def learner_credential(world: World) -> Seen:
    response = _learner(world).get(reverse("documents:credential", args=[world.document.pk]))
    contents = response.status_code == 200 and "credentialSubject" in json.loads(response.content)
    return Seen(contents, response.status_code == 404)


def privacy_export(world: World) -> Seen:
    response = _learner(world).get(reverse("account_privacy:export"))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    [entry] = [d for d in data["documents"] if d["id"] == str(world.document.public_id)]
    pdfs = [name for name in archive.namelist() if world.document.public_id.hex[:8] in name]
    contents = bool(pdfs) or bool(entry.get("record")) or bool(entry.get("versions"))
    return Seen(contents, LOCKED_LINE in (entry.get("locked") or "") and entry["title"] == TITLE)


def _recipient_page(response) -> Seen:
    text = response.content.decode()
    assert response.status_code == 200 and TITLE in text
    return Seen("/pdf/" in text or "/download/" in text, RECIPIENT_LOCKED_LINE in text)


def _camille(world: World) -> Client:
    client = Client()
    client.force_login(world.camille)
    return client


def inbox_page(world: World) -> Seen:
    return _recipient_page(_camille(world).get(reverse("inbox:share", args=[world.org_share.pk])))


def _inbox_file(name: str) -> Callable[[World], Seen]:
    def path(world: World) -> Seen:
        url = reverse(name, args=[world.org_share.pk, world.document.pk])
        response = _camille(world).get(url)
        return Seen(_is_pdf(response), _refused_page(response))

    return path


def _holder(share) -> Client:
    """A browser that holds SHARE (a link opened, or an email share's code entered)."""
    client = Client()
    session = client.session
    session[GRANTS] = {str(share.pk): VERIFIED}
    session.save()
    return client


def _recipient_share(attribute: str) -> Callable[[World], Seen]:
    def path(world: World) -> Seen:
        share = getattr(world, attribute)
        return _recipient_page(_holder(share).get(reverse("recipient:share", args=[share.pk])))

    return path


def _recipient_file(attribute: str, name: str) -> Callable[[World], Seen]:
    def path(world: World) -> Seen:
        share = getattr(world, attribute)
        response = _holder(share).get(reverse(name, args=[share.pk, world.document.pk]))
        return Seen(_is_pdf(response), _refused_page(response))

    return path


def api_pdf(world: World) -> Seen:
    response = Client().get(
        f"/api/v1/shares/{world.org_share.public_id}/documents/{world.document.public_id}/pdf",
        headers={"Authorization": f"Bearer {world.api_token}"},
    )
    if response.status_code == 200:
        return Seen(_is_pdf(response), False)
    return Seen(
        False, response.status_code == 403 and response.json()["error"]["code"] == "document_locked"
    )


PATHS: dict[str, Callable[[World], Seen]] = {
    "learner's document page": learner_page,
    "learner's PDF viewer": _learner_file("documents:view"),
    "learner's download": _learner_file("documents:download"),
    "learner's credential (JSON)": learner_credential,
    "privacy export": privacy_export,
    "inbox share page": inbox_page,
    "inbox viewer": _inbox_file("inbox:view"),
    "inbox download": _inbox_file("inbox:download"),
    "link share page": _recipient_share("link_share"),
    "link share viewer": _recipient_file("link_share", "recipient:view"),
    "link share download": _recipient_file("link_share", "recipient:download"),
    "email share page": _recipient_share("email_share"),
    "email share viewer": _recipient_file("email_share", "recipient:view"),
    "email share download": _recipient_file("email_share", "recipient:download"),
    "API download": api_pdf,
}


@pytest.mark.parametrize("path", list(PATHS), ids=list(PATHS))
def test_every_path_gives_a_documents_contents_only_once_its_fee_is_paid(world, state, path):
    seen = PATHS[path](world)

    if state == "paid":
        assert seen == Seen(contents=True, says_locked=False)
    else:
        assert seen == Seen(contents=False, says_locked=True)


def test_the_privacy_export_of_a_locked_document_keeps_its_line_and_drops_its_files(
    zoe, free_college
):
    testing.set_fee_policy(free_college, collection_fee_cents=1500)
    locked = testing.make_document(zoe, free_college, TITLE)
    free = testing.make_document(zoe, testing.make_organization("other", issuer=True), "Other")
    client = Client()
    client.force_login(zoe)

    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(reverse("account_privacy:export")).streaming_content))
    )

    data = json.loads(archive.read("data.json"))
    by_id = {d["id"]: d for d in data["documents"]}
    assert by_id[str(locked.public_id)]["locked"].startswith(LOCKED_LINE)
    assert free_college.name in by_id[str(locked.public_id)]["locked"]
    assert by_id[str(free.public_id)]["locked"] is None
    names = archive.namelist()
    assert not [n for n in names if locked.public_id.hex[:8] in n]
    assert [n for n in names if free.public_id.hex[:8] in n]
