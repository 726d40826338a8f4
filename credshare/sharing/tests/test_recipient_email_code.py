"""An email share from the recipient's side, over a real SMTP conversation: the share email
brings a link, opening it brings a 6-digit code in a second email, and the code opens the
share in that browser only. Single use, 10 minutes, locked after 5 wrong tries."""

import datetime
import logging
import re
from urllib.parse import urlparse

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.core import testing

pytestmark = pytest.mark.django_db(transaction=True)

RECIPIENT = "zelda@example.org"
PRIVATE_NAME = "For my cousin's school"
PRIVATE_PURPOSE = "Secret plans"


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message) -> str:
    """The path of the share link in the share email."""
    [url] = re.findall(r"https?://\S+/s/\S+/", text_of(message))
    return urlparse(url).path


def code_in(message) -> str:
    [code] = re.findall(r"^\s*(\d{6})\s*$", text_of(message), flags=re.MULTILINE)
    return code


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
def share(smtp_server, zoe, zoe_transcript):  # the share email goes to smtp_server
    return testing.share_by_email(
        zoe,
        [zoe_transcript],
        RECIPIENT,
        email_language="en",
        message="Here is my transcript, as promised.",
        name=PRIVATE_NAME,
        purpose=PRIVATE_PURPOSE,
        expires_on=timezone.localdate() + datetime.timedelta(days=30),
    )


@pytest.fixture
def share_email(smtp_server, share):
    [message] = smtp_server.wait_for(1)
    return message


def open_link(client: Client, smtp_server, share_email):
    """Open the emailed link in CLIENT; returns the code page's URL and the code email."""
    count = len(smtp_server.messages)
    response = client.get(link_in(share_email))
    assert response.status_code == 302
    code_email = smtp_server.wait_for(count + 1)[-1]
    return response["Location"], code_email


def enter(client: Client, share, code: str):
    return client.post(reverse("recipient:code", args=[share.pk]), {"code": code})


# The two emails


def test_the_share_email_names_the_learner_the_documents_the_message_and_the_expiry(
    share, share_email, zoe, university
):
    text = text_of(share_email)

    assert share_email["To"] == RECIPIENT
    assert "Zoé Citoyenne" in share_email["Subject"]
    assert "Zoé Citoyenne" in text
    assert "Official transcript" in text
    assert university.name in text
    assert "Here is my transcript, as promised." in text
    assert share.expires_on.strftime("%Y") in text
    assert "separate email" in text
    assert link_in(share_email).startswith("/s/")
    assert link_in(share_email) in html_of(share_email)


def test_the_share_email_says_nothing_of_the_private_name_or_purpose(share_email):
    for body in [text_of(share_email), html_of(share_email), share_email["Subject"]]:
        assert PRIVATE_NAME not in body
        assert PRIVATE_PURPOSE not in body


def test_opening_the_link_sends_the_code_in_a_second_email_and_asks_for_it(
    client,
    smtp_server,
    share,
    share_email,
):
    code_url, code_email = open_link(client, smtp_server, share_email)

    page = client.get(code_url)

    assert code_url == reverse("recipient:code", args=[share.pk])
    assert code_email["To"] == RECIPIENT
    assert re.fullmatch(r"\d{6}", code_in(code_email))
    assert code_in(code_email) not in code_email["Subject"]
    assert "10 minutes" in text_of(code_email)
    assert page.status_code == 200
    assert "Enter the 6-digit code we sent to z***@example.org" in page.content.decode()
    assert RECIPIENT not in page.content.decode()


def test_a_wrong_code_then_the_right_one_opens_the_share(
    client,
    smtp_server,
    share,
    share_email,
    zoe_transcript,
):
    _code_url, code_email = open_link(client, smtp_server, share_email)
    code = code_in(code_email)

    refused = enter(client, share, wrong(code))
    accepted = enter(client, share, code)
    page = client.get(accepted["Location"])

    assert refused.status_code == 400
    assert "Wrong code. You have 4 tries left." in refused.content.decode()
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("recipient:share", args=[share.pk])
    assert page.status_code == 200
    assert "Official transcript" in page.content.decode()
    assert PRIVATE_NAME not in page.content.decode()
    assert reverse("recipient:download", args=[share.pk, zoe_transcript.pk]) in (
        page.content.decode()
    )


def test_before_the_code_the_share_and_its_files_are_404(
    client,
    smtp_server,
    share,
    share_email,
    zoe_transcript,
):
    open_link(client, smtp_server, share_email)

    for url in [
        reverse("recipient:share", args=[share.pk]),
        reverse("recipient:view", args=[share.pk, zoe_transcript.pk]),
        reverse("recipient:download", args=[share.pk, zoe_transcript.pk]),
    ]:
        assert client.get(url).status_code == 404, url


def test_a_code_works_once(
    client,
    smtp_server,
    share,
    share_email,
):
    _code_url, code_email = open_link(client, smtp_server, share_email)
    code = code_in(code_email)
    enter(client, share, code)
    other_browser = Client()

    response = other_browser.get(link_in(share_email))
    reused = enter(other_browser, share, code)

    assert response.status_code == 302
    assert response["Location"] == reverse("recipient:code", args=[share.pk])
    assert reused.status_code == 400
    assert "This code has expired. Ask for a new one." in reused.content.decode()
    assert other_browser.get(reverse("recipient:share", args=[share.pk])).status_code == 404


def test_a_code_older_than_ten_minutes_is_refused(
    client,
    smtp_server,
    share,
    share_email,
):
    _code_url, code_email = open_link(client, smtp_server, share_email)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10, seconds=1)):
        response = enter(client, share, code_in(code_email))

    assert response.status_code == 400
    assert "This code has expired. Ask for a new one." in response.content.decode()
    assert client.get(reverse("recipient:share", args=[share.pk])).status_code == 404


def test_five_wrong_tries_lock_the_code_even_against_the_right_one(
    client,
    smtp_server,
    share,
    share_email,
):
    _code_url, code_email = open_link(client, smtp_server, share_email)
    code = code_in(code_email)

    tries = [enter(client, share, wrong(code)) for _ in range(5)]
    right = enter(client, share, code)

    assert [t.status_code for t in tries] == [400, 400, 400, 400, 429]
    assert "You have 1 try left." in tries[3].content.decode()
    assert "this code is locked" in tries[4].content.decode()
    assert right.status_code == 429
    assert "this code is locked" in right.content.decode()
    assert client.get(reverse("recipient:share", args=[share.pk])).status_code == 404


def test_a_new_code_is_refused_within_a_minute_and_sent_after_it(
    client,
    smtp_server,
    share,
    share_email,
):
    _code_url, first_email = open_link(client, smtp_server, share_email)
    new_code_url = reverse("recipient:code_new", args=[share.pk])

    too_soon = client.post(new_code_url)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        sent = client.post(new_code_url)
        [*_, second_email] = smtp_server.wait_for(3)
        code_page = client.get(sent["Location"])
        new_code = enter(client, share, code_in(second_email))

    assert too_soon.status_code == 429
    assert "less than a minute ago" in too_soon.content.decode()
    assert len(smtp_server.messages) == 3
    assert sent.status_code == 302
    assert "We sent a new code to z***@example.org." in code_page.content.decode()
    assert second_email["To"] == RECIPIENT
    assert new_code.status_code == 302
    assert new_code["Location"] == reverse("recipient:share", args=[share.pk])


def test_after_a_locked_code_a_new_one_opens_the_share(
    client,
    smtp_server,
    share,
    share_email,
):
    _code_url, first_email = open_link(client, smtp_server, share_email)
    for _ in range(5):
        enter(client, share, wrong(code_in(first_email)))

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        client.post(reverse("recipient:code_new", args=[share.pk]))
        [*_, second_email] = smtp_server.wait_for(3)
        response = enter(client, share, code_in(second_email))
        page = client.get(reverse("recipient:share", args=[share.pk]))

    assert response.status_code == 302
    assert page.status_code == 200


def test_opening_the_link_again_in_the_same_browser_sends_no_new_code(
    client,
    smtp_server,
    share,
    share_email,
):
    open_link(client, smtp_server, share_email)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        again = client.get(link_in(share_email))

    assert again.status_code == 302
    assert again["Location"] == reverse("recipient:code", args=[share.pk])
    assert len(smtp_server.messages) == 2


def test_the_learner_who_asked_is_told_by_email_of_the_first_opening(
    client,
    smtp_server,
    zoe,
    zoe_transcript,
):
    share = testing.share_by_email(
        zoe, [zoe_transcript], RECIPIENT, notify_owner_on_first_open=True, name=PRIVATE_NAME
    )
    [share_email] = smtp_server.wait_for(1)
    _code_url, code_email = open_link(client, smtp_server, share_email)
    enter(client, share, code_in(code_email))

    client.get(reverse("recipient:share", args=[share.pk]))
    client.get(reverse("recipient:share", args=[share.pk]))
    notices = [m for m in smtp_server.wait_for(3) if m["To"] == zoe.email]

    [notice] = notices
    assert len(smtp_server.messages) == 3
    assert "opened" in notice["Subject"]
    assert RECIPIENT in text_of(notice)
    assert PRIVATE_NAME in text_of(notice)
    assert reverse("sharing:detail", args=[share.pk]) in text_of(notice)


# In a browser


@pytest.mark.browser
def test_in_a_browser_the_recipient_opens_the_emailed_link_and_enters_the_emailed_code(
    live_server,
    smtp_server,
    share,
    share_email,
    new_page,
):
    requested = []
    browser_page = new_page(locale="en-US")
    browser_page.on("request", lambda request: requested.append(request.url))

    browser_page.goto(live_server.url + link_in(share_email))
    [_share_email, code_email] = smtp_server.wait_for(2)
    browser_page.get_by_label("Enter the 6-digit code we sent to z***@example.org").fill(
        code_in(code_email)
    )
    browser_page.get_by_role("button", name="Open the share").click()
    browser_page.get_by_role("heading", name="Documents shared by Zoé Citoyenne").wait_for()

    assert browser_page.url == live_server.url + reverse("recipient:share", args=[share.pk])
    assert browser_page.get_by_role("link", name="Download").count() == 1
    assert PRIVATE_NAME not in browser_page.content()
    assert all(url.startswith(live_server.url) for url in requested)


def test_the_email_links_token_never_appears_in_a_location_header_or_the_logs(
    client,
    caplog,
    smtp_server,
    share,
    share_email,
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    token = link_in(share_email).split("/")[2]
    locations = []

    opening = client.get(link_in(share_email))
    locations.append(opening["Location"])
    [*_, code_email] = smtp_server.wait_for(2)
    enter(client, share, wrong(code_in(code_email)))  # 400, logged
    locations.append(enter(client, share, code_in(code_email))["Location"])
    locations.append(client.get(link_in(share_email))["Location"])
    Client().post(link_in(share_email))  # 405, logged

    assert len(token) >= 43
    assert all(token not in location for location in locations)
    assert "Method Not Allowed (POST): /s/<redacted>/" in caplog.text
    assert token not in caplog.text
