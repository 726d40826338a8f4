"""What the holder of a secret link sees: the token leaves the URL at once, the share page
shows the documents and nothing private, and the token never reaches a log or a later
`Location`."""

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from credshare.core import testing
from credshare.documents.models import Document
from credshare.sharing.services import share_revoke

PRIVATE_NAME = "Application to the secret program"
PRIVATE_PURPOSE = "Because I am moving away"


@pytest.fixture
def link(zoe, zoe_transcript):
    """A link share of Zoé's transcript: (share, token)."""
    return testing.share_by_link(
        zoe, [zoe_transcript], name=PRIVATE_NAME, purpose=PRIVATE_PURPOSE, reference="REF-42"
    )


@pytest.fixture
def all_logs(caplog):
    """Every log record of every logger, down to DEBUG."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    return caplog


def open_url(token: str) -> str:
    return reverse("recipient:open", args=[token])


def opened(client: Client, token: str):
    """Open the link in CLIENT; returns the token-free URL it redirected to."""
    response = client.get(open_url(token))
    assert response.status_code == 302
    return response["Location"]


def file_url(name: str, share, document) -> str:
    return reverse(f"recipient:{name}", args=[share.pk, document.pk])


# The token leaves the URL


def test_opening_the_link_redirects_at_once_to_a_url_without_the_token(client, link):
    share, token = link

    response = client.get(open_url(token))

    assert response.status_code == 302
    assert response["Location"] == reverse("recipient:share", args=[share.pk])
    assert token not in response["Location"]


def test_no_location_header_on_the_way_to_the_documents_holds_the_token(
    client, link, zoe_transcript
):
    share, token = link
    locations = []

    for url in [
        open_url(token),
        reverse("recipient:share", args=[share.pk]),
        file_url("view", share, zoe_transcript),
        file_url("download", share, zoe_transcript),
        open_url(token),
    ]:
        response = client.get(url)
        assert response.status_code in {200, 302}
        if response.has_header("Location"):
            locations.append(response["Location"])

    assert locations
    assert all(token not in location for location in locations)


# The share page


def test_the_share_page_lists_the_documents_with_view_and_download(
    client, link, zoe_transcript, university
):
    share, token = link

    page = client.get(opened(client, token))
    content = page.content.decode()

    assert page.status_code == 200
    assert "Zoé Citoyenne" in content
    assert "Official transcript" in content
    assert university.name in content
    assert "REF-42" in content
    assert file_url("view", share, zoe_transcript) in content
    assert file_url("download", share, zoe_transcript) in content


def test_the_share_page_shows_nothing_of_the_private_name_or_purpose(client, link):
    _share, token = link

    content = client.get(opened(client, token)).content.decode()

    assert PRIVATE_NAME not in content
    assert PRIVATE_PURPOSE not in content


def test_the_share_page_shows_the_newest_version_of_each_document(client, link, zoe_transcript):
    from credshare.documents.services import document_version_add

    _share, token = link
    corrected = document_version_add(document=zoe_transcript, pdf=testing.sample_pdf("v2"))

    content = client.get(opened(client, token)).content.decode()

    assert corrected.sha256[:12] in content


def test_view_serves_the_pdf_inline_and_download_as_an_attachment(client, link, zoe_transcript):
    share, token = link
    opened(client, token)

    shown = client.get(file_url("view", share, zoe_transcript))
    downloaded = client.get(file_url("download", share, zoe_transcript))

    assert shown.status_code == 200
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline")
    assert b"".join(shown.streaming_content).startswith(b"%PDF")
    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"].startswith("attachment")
    b"".join(downloaded.streaming_content)


def test_the_learner_sees_each_opening_view_and_download_by_a_link_visitor(
    client, link, zoe, zoe_transcript
):
    share, token = link
    visitor = Client()
    visitor.get(opened(visitor, token))
    b"".join(visitor.get(file_url("view", share, zoe_transcript)).streaming_content)
    b"".join(visitor.get(file_url("download", share, zoe_transcript)).streaming_content)

    client.force_login(zoe)
    content = client.get(reverse("sharing:detail", args=[share.pk])).content.decode()

    assert content.count("Link visitor") == 3
    assert "Opened" in content
    assert "Viewed" in content
    assert "Downloaded" in content


@pytest.mark.parametrize("name", ["view", "download"])
def test_a_document_the_issuer_withdrew_is_not_served(client, link, zoe_transcript, name):
    share, token = link
    opened(client, token)
    Document.objects.filter(pk=zoe_transcript.pk).update(status=Document.Status.WITHDRAWN)

    response = client.get(file_url(name, share, zoe_transcript))

    assert response.status_code == 410
    assert "The issuer withdrew this document." in response.content.decode()


# Without the link


def test_another_browser_without_the_link_gets_404_on_every_page_of_the_share(
    client, link, zoe_transcript
):
    share, token = link
    opened(client, token)
    stranger = Client()

    for url in [
        reverse("recipient:share", args=[share.pk]),
        file_url("view", share, zoe_transcript),
        file_url("download", share, zoe_transcript),
        reverse("recipient:code", args=[share.pk]),
    ]:
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert "Zoé" not in response.content.decode()


def test_a_browser_holding_one_share_gets_404_for_another(client, zoe, university, link):
    testing.give_credits(zoe, university, 1)
    other_document = testing.make_document(zoe, university, "Another transcript")
    other, _token = testing.share_by_link(zoe, [other_document])
    _share, token = link
    opened(client, token)

    response = client.get(reverse("recipient:share", args=[other.pk]))

    assert response.status_code == 404
    assert "Another transcript" not in response.content.decode()


def test_an_unknown_token_is_a_404_that_tells_nothing(client, link):
    response = client.get(open_url("not-a-real-token-at-all-" + "x" * 20))

    content = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in content
    assert "Zoé" not in content
    assert "Official transcript" not in content


# Revoked


def test_a_revoked_links_token_is_a_410_saying_it_was_revoked(client, link):
    share, token = link
    share_revoke(share=share)

    response = client.get(open_url(token))

    assert response.status_code == 410
    assert "The learner revoked this share." in response.content.decode()
    assert token not in response.content.decode()


def test_revoking_shuts_a_browser_that_already_opened_the_share(client, link, zoe_transcript):
    share, token = link
    opened(client, token)
    share_revoke(share=share)

    for url in [
        reverse("recipient:share", args=[share.pk]),
        file_url("view", share, zoe_transcript),
        file_url("download", share, zoe_transcript),
    ]:
        response = client.get(url)
        assert response.status_code == 410, url
        assert "The learner revoked this share." in response.content.decode()


# Logs


def test_the_token_never_appears_in_the_logs(client, link, zoe, zoe_transcript, all_logs):
    share, token = link
    opened(client, token)
    client.get(reverse("recipient:share", args=[share.pk]))
    b"".join(client.get(file_url("view", share, zoe_transcript)).streaming_content)
    client.post(open_url(token))  # 405
    Client().get(reverse("recipient:share", args=[share.pk]))  # 404
    share_revoke(share=share)
    client.get(open_url(token))  # 410
    unknown = "unknown-token-" + token[::-1]
    client.get(open_url(unknown))  # 404

    messages = [record.getMessage() for record in all_logs.records]
    assert "Gone: /s/<redacted>/" in messages
    assert "Not Found: /s/<redacted>/" in messages
    assert "Method Not Allowed (POST): /s/<redacted>/" in messages
    assert not [m for m in messages if token in m or unknown in m]
    assert token not in all_logs.text
    assert unknown not in all_logs.text


def test_the_development_servers_request_lines_hide_the_token(caplog):
    token = "sEcReT-token_0123456789abcdefghijklmnopqrstu"
    server_logger = logging.getLogger("django.server")
    server_logger.addHandler(caplog.handler)
    try:
        server_logger.info('"%s" %s %s', f"GET /s/{token}/ HTTP/1.1", "302", "0")
        server_logger.info('"%s" %s %s', "GET /s/shares/7/ HTTP/1.1", "200", "512")
    finally:
        server_logger.removeHandler(caplog.handler)

    assert [record.getMessage() for record in caplog.records] == [
        '"GET /s/<redacted>/ HTTP/1.1" 302 0',
        '"GET /s/shares/7/ HTTP/1.1" 200 512',
    ]


# Headers


def test_every_page_and_file_of_the_share_forbids_referrers_and_caching(
    client, link, zoe_transcript
):
    share, token = link
    responses = [
        client.get(open_url(token)),
        client.get(reverse("recipient:share", args=[share.pk])),
        client.get(file_url("view", share, zoe_transcript)),
        client.get(file_url("download", share, zoe_transcript)),
        Client().get(reverse("recipient:share", args=[share.pk])),
        client.get(open_url("unknown-token")),
    ]
    share_revoke(share=share)
    responses.append(client.get(open_url(token)))
    responses.append(client.get(reverse("recipient:share", args=[share.pk])))

    for response in responses:
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]
    assert [response.status_code for response in responses] == [
        302,
        200,
        200,
        200,
        404,
        404,
        410,
        410,
    ]


def test_the_share_page_loads_nothing_from_another_site(client, link):
    _share, token = link

    content = client.get(opened(client, token)).content.decode()

    assert re.findall(r"""(?:src|href|action)=["'](?:https?:)?//""", content) == []
    assert "@import" not in content


def test_the_organizations_share_pages_and_files_forbid_referrers_and_caching(
    client, camille, zoe, zoe_transcript, ecole
):
    share = testing.share_with(
        zoe, [zoe_transcript], ecole, field_values={"application_number": "A-1"}
    )
    client.force_login(camille)

    for url in [
        reverse("inbox:share", args=[share.pk]),
        reverse("inbox:view", args=[share.pk, zoe_transcript.pk]),
        reverse("inbox:download", args=[share.pk, zoe_transcript.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]
