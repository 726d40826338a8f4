"""The share window's channel "by link", through the test client: sharing creates a link share
and spends one credit; the done page shows the link (whose token opens the share), a copy
button and a QR code, downloadable as PNG or SVG. The token is kept only in the learner's
session: in a new session, after "Finish" or on another sharing page, the done page says the
link was shown once. Refused submissions change nothing."""

import io
import logging
import re
from urllib.parse import urlsplit

import pytest
import segno
from django.conf import settings
from django.test import Client
from django.urls import resolve, reverse
from PIL import Image

from credshare.billing.models import CreditEntry
from credshare.core import testing
from credshare.sharing.models import Share
from credshare.sharing.services import token_hash
from credshare.sharing.tests.test_share_window import (
    COMMON_BAD_SUBMISSIONS,
    apply_changes,
    assert_nothing_shared,
    balance,
    error_area_text,
    page_text,
    submission_for,
    submission_token_of,
)

URL = reverse("sharing:by_link")
SHOWN_ONCE = "The link to this share was shown once, when you made it"


@pytest.fixture
def zoe_client(client, zoe):
    client.force_login(zoe)
    return client


@pytest.fixture
def valid_submission(zoe_client, zoe_transcript):
    """What Zoé posts to share her transcript by link."""
    return submission_for(
        zoe_client,
        URL,
        zoe_transcript,
        name="Lien pour le jury",
        purpose="Bourse",
        reference="JURY-3",
    )


def link_on(response) -> str | None:
    """The link shown in the done page's read-only input, None if there is none."""
    match = re.search(
        r'<input type="text" id="share-link" value="([^"]+)" readonly', response.content.decode()
    )
    return match.group(1) if match else None


def token_of(link: str) -> str:
    match = resolve(urlsplit(link).path)
    assert match.view_name == "recipient:open"
    return match.kwargs["token"]


def svg_path(svg: str) -> str:
    return re.search(r'<path [^>]*\bd="([^"]+)"', svg).group(1)


def qr_codes_of(link: str) -> list[segno.QRCode]:
    """The QR codes of LINK at every error correction level: the page may use any."""
    return [segno.make(link, error=level) for level in "lmqh"]


@pytest.fixture
def shared(zoe_client, valid_submission):
    """Zoé shares by link; the response to her POST."""
    return zoe_client.post(URL, valid_submission)


# The form


def test_the_link_form_asks_no_recipient(zoe_client, zoe_transcript):
    response = zoe_client.get(URL, {"documents": zoe_transcript.pk})

    assert response.status_code == 200
    assert "By link" in page_text(response)
    assert "Anyone who has the link can open your share" in page_text(response)
    assert 'name="recipient' not in response.content.decode()


# Sharing and the done page


def test_sharing_by_link_makes_a_link_share_and_spends_a_credit(
    shared, zoe, university, zoe_transcript
):
    share = Share.objects.get()
    assert shared.status_code == 302
    assert shared.url == reverse("sharing:done", args=[share.pk])
    assert share.channel == Share.Channel.LINK
    assert share.recipient_organization is None and share.recipient_email == ""
    assert (share.name, share.purpose, share.reference) == ("Lien pour le jury", "Bourse", "JURY-3")
    assert len(share.token_hash) == 64
    assert list(share.documents.all()) == [zoe_transcript]
    assert balance(zoe, university) == 0


def test_the_done_page_shows_the_link_whose_token_opens_the_share(zoe_client, shared):
    response = zoe_client.get(shared.url)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    link = link_on(response)
    assert link is not None
    assert link.startswith(settings.CREDSHARE_BASE_URL.rstrip("/") + "/s/")
    token = token_of(link)
    assert len(token) >= 22  # 128 bits and more, in URL-safe base64
    assert token_hash(token) == Share.objects.get().token_hash
    text = page_text(response)
    assert "The link to your share" in text
    assert "Copy the link" in text
    assert 'id="copy-link" hidden' in response.content.decode()  # share.js shows it
    assert "/static/credshare/share.js" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_the_done_page_shows_the_links_qr_code_and_links_to_download_it(zoe_client, shared):
    response = zoe_client.get(shared.url)

    link = link_on(response)
    figure = re.search(r'<figure class="qr-code">(.*?)</figure>', response.content.decode(), re.S)
    assert figure, "no QR code on the done page"
    svg = re.search(r"<svg.*?</svg>", figure.group(1), re.S).group(0)
    assert "<title>QR code of the link to your share</title>" in svg
    assert svg_path(svg) in [svg_path(code.svg_inline()) for code in qr_codes_of(link)]
    pk = Share.objects.get().pk
    assert reverse("sharing:qr", args=[pk, "png"]) in figure.group(1)
    assert reverse("sharing:qr", args=[pk, "svg"]) in figure.group(1)


def test_the_qr_code_downloads_as_svg(zoe_client, shared):
    link = link_on(zoe_client.get(shared.url))

    response = zoe_client.get(reverse("sharing:qr", args=[Share.objects.get().pk, "svg"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    svg = response.content.decode()
    assert svg_path(svg) in [svg_path(code.svg_inline()) for code in qr_codes_of(link)]


def dark_modules(image: Image.Image, code: segno.QRCode) -> list[list[bool]]:
    """Which modules of IMAGE are dark, read at their centres, if IMAGE has CODE's size."""
    modules = code.symbol_size(scale=1)[0]
    scale, border = image.width // modules, (modules - len(code.matrix)) // 2
    gray = image.convert("L")
    return [
        [
            gray.getpixel(((c + border) * scale + scale // 2, (r + border) * scale + scale // 2))
            < 128
            for c in range(len(code.matrix))
        ]
        for r in range(len(code.matrix))
    ]


def test_the_qr_code_downloads_as_a_png_of_the_link(zoe_client, shared):
    link = link_on(zoe_client.get(shared.url))

    response = zoe_client.get(reverse("sharing:qr", args=[Share.objects.get().pk, "png"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.width == image.height
    expected = [
        [[bool(module & 1) for module in row] for row in code.matrix]
        for code in qr_codes_of(link)
        if image.width % code.symbol_size(scale=1)[0] == 0
    ]
    assert expected, "the PNG has the size of none of the link's QR codes"
    assert any(dark_modules(image, code) in expected for code in qr_codes_of(link))


@pytest.mark.parametrize("kind", ["gif", "svg.png", "PNG"])
def test_the_qr_code_in_another_format_is_a_404(zoe_client, shared, kind):
    response = zoe_client.get(f"/shares/{Share.objects.get().pk}/qr.{kind}")

    assert response.status_code == 404


def test_the_done_page_in_a_new_session_shows_no_link(zoe, shared):
    share = Share.objects.get()
    new_session = Client()
    new_session.force_login(zoe)

    response = new_session.get(shared.url)

    assert response.status_code == 200
    assert link_on(response) is None
    assert "/s/" not in response.content.decode()
    assert "<svg" not in response.content.decode()
    assert SHOWN_ONCE in page_text(response)
    assert "revoke this share and make a new link" in page_text(response)
    assert new_session.get(reverse("sharing:qr", args=[share.pk, "png"])).status_code == 404


def test_reloading_the_done_page_shows_the_same_link_again(zoe_client, shared):
    first = link_on(zoe_client.get(shared.url))

    assert link_on(zoe_client.get(shared.url)) == first


def test_after_finish_the_link_is_gone(zoe_client, shared):
    finish = zoe_client.post(reverse("sharing:finish"))

    assert finish.status_code == 302
    assert finish.url == reverse("documents:list")
    response = zoe_client.get(shared.url)
    assert link_on(response) is None
    assert SHOWN_ONCE in page_text(response)
    share = Share.objects.get()
    assert zoe_client.get(reverse("sharing:qr", args=[share.pk, "svg"])).status_code == 404


def test_the_done_page_finishes_with_a_form_that_forgets_the_link(zoe_client, shared):
    page = zoe_client.get(shared.url).content.decode()

    assert re.search(
        rf'<form method="post" action="{reverse("sharing:finish")}"[^>]*>.*?'
        r'<button type="submit" class="primary">Finish</button>',
        page,
        re.S,
    )


@pytest.mark.parametrize("url_name", ["sharing:list", "sharing:detail"])
def test_leaving_for_another_sharing_page_forgets_the_link(zoe_client, shared, url_name):
    share = Share.objects.get()
    args = [share.pk] if url_name == "sharing:detail" else []

    zoe_client.get(reverse(url_name, args=args))

    assert link_on(zoe_client.get(shared.url)) is None


def test_a_revoked_link_share_shows_no_link(zoe_client, shared):
    share = Share.objects.get()
    Share.objects.filter(pk=share.pk).update(revoked_at=share.created)

    assert link_on(zoe_client.get(shared.url)) is None


def test_the_token_is_in_no_url_of_ours_and_no_log(client, zoe, zoe_transcript, caplog):
    client.force_login(zoe)
    caplog.set_level(logging.DEBUG)
    token = submission_token_of(client.get(URL, {"documents": zoe_transcript.pk}))
    data = {"documents": [zoe_transcript.pk], "confirm_credit_use": "on", "submission_token": token}

    posted = client.post(URL, data)
    done = client.get(posted.url)
    link = link_on(done)
    qr = client.get(reverse("sharing:qr", args=[Share.objects.get().pk, "png"]))
    finished = client.post(reverse("sharing:finish"))

    secret = token_of(link)
    for response in (posted, done, qr, finished):
        assert secret not in response.get("Location", "")
    assert secret not in caplog.text
    page_without_link = done.content.decode().replace(link, "")
    assert secret not in page_without_link


def test_a_double_post_makes_one_share_spends_one_credit_and_keeps_the_link(
    zoe_client, zoe, university, valid_submission
):
    testing.give_credits(zoe, university, 1)  # enough for a second share, were one made

    first = zoe_client.post(URL, valid_submission)
    second = zoe_client.post(URL, valid_submission)

    share = Share.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("sharing:done", args=[share.pk])
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.SPEND).count() == 1
    assert balance(zoe, university) == 1
    link = link_on(zoe_client.get(first.url))
    assert token_hash(token_of(link)) == share.token_hash


# Refused submissions


@pytest.mark.parametrize(("changes", "where", "message"), COMMON_BAD_SUBMISSIONS)
def test_a_bad_submission_is_refused_with_the_error_next_to_its_field(
    zoe_client, zoe, university, bob_transcript, valid_submission, changes, where, message
):
    apply_changes(valid_submission, changes, bobs_document=bob_transcript)

    response = zoe_client.post(URL, valid_submission)

    assert response.status_code == 400
    assert message in error_area_text(response, where)
    assert "Bob's transcript" not in page_text(response)
    assert_nothing_shared(zoe, university)
    assert "share-link" not in response.content.decode()


def test_another_learners_qr_code_and_done_page_are_404(bob, shared):
    share = Share.objects.get()
    bobs = Client()
    bobs.force_login(bob)

    assert bobs.get(reverse("sharing:done", args=[share.pk])).status_code == 404
    assert bobs.get(reverse("sharing:qr", args=[share.pk, "png"])).status_code == 404


def test_an_organization_share_has_no_qr_code(zoe, zoe_transcript, ecole, client):
    share = testing.share_with(zoe, [zoe_transcript], ecole)
    client.force_login(zoe)

    assert client.get(reverse("sharing:qr", args=[share.pk, "svg"])).status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", URL), ("post", URL), ("post", reverse("sharing:finish"))],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, zoe_transcript, method, url):
    response = getattr(client, method)(url, {"documents": zoe_transcript.pk})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Share.objects.exists()
