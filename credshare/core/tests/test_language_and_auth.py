"""Signing in and out, and the header's language switch "Français" / "English"."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.test.signals import setting_changed
from django.urls import reverse

from credshare.core import testing


def _catalogs_are_stale() -> bool:
    for locale_path in settings.LOCALE_PATHS:
        for po_path in Path(locale_path).glob("*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                return True
    return False


@pytest.fixture(scope="module", autouse=True)
def _compiled_translations():
    # `make test` compiles the catalogs before pytest starts: compile again only when they
    # are missing or older than the .po, so parallel workers do not rewrite them while
    # another one reads them.
    if _catalogs_are_stale():
        call_command("compiletranslations", stdout=io.StringIO())
    # Forget catalogs loaded by earlier tests of this process, maybe before the .mo existed.
    setting_changed.send(
        sender=type(settings), setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=True
    )


def sign_in(client, email: str, password: str = testing.PASSWORD, **extra):
    return client.post(reverse("login"), {"login": email, "password": password, **extra})


def is_signed_in(client) -> bool:
    return client.get(reverse("documents:list")).status_code == 200


def html_lang(response) -> str:
    page = response.content.decode()
    start = page.index('<html lang="') + len('<html lang="')
    return page[start : page.index('"', start)]


# Signing in and out


def test_sign_in_page_asks_for_email_and_password(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="login"' in page
    assert 'type="password"' in page
    assert "Email" in page


def test_learner_signs_in_by_email_and_password_and_lands_on_their_documents(
    client, zoe, zoe_transcript
):
    response = sign_in(client, "zoe@example.org")

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    landing = client.get(response["Location"], follow=True)
    assert landing.redirect_chain == [(reverse("documents:list"), 302)]
    assert "Zoé Citoyenne" in landing.content.decode()
    assert "Official transcript" in landing.content.decode()


def test_staff_member_without_documents_lands_on_the_inbox(client, camille):
    response = sign_in(client, "camille@ecole.example")
    assert response["Location"] == reverse("mfa_authenticate")  # staff always have MFA
    client.post(reverse("mfa_authenticate"), {"code": testing.totp_code()})

    landing = client.get(reverse("home"), follow=True)

    assert landing.redirect_chain == [(reverse("inbox:list"), 302)]


def test_sign_in_follows_a_next_url_on_this_site(client, zoe):
    response = sign_in(client, "zoe@example.org", next=reverse("sharing:list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("sharing:list")


def test_sign_in_does_not_follow_a_next_url_to_another_host(client, zoe):
    response = sign_in(client, "zoe@example.org", next="https://evil.example/phish")

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_sign_in_accepts_the_email_in_any_letter_case(client, zoe):
    response = sign_in(client, "Zoe@Example.ORG")

    assert response.status_code == 302
    assert is_signed_in(client)


def test_a_wrong_password_shows_an_error_and_does_not_sign_in(client, zoe):
    response = sign_in(client, "zoe@example.org", "not-the-password")

    assert response.status_code == 200
    assert (
        "The email address and/or password you specified are not correct."
        in response.content.decode()
    )
    assert 'role="alert"' in response.content.decode()
    assert not is_signed_in(client)


def test_an_unknown_email_shows_the_same_error(client, zoe):
    response = sign_in(client, "nobody@example.org")

    assert response.status_code == 200
    assert (
        "The email address and/or password you specified are not correct."
        in response.content.decode()
    )


def test_a_signed_in_person_visiting_sign_in_goes_home(client, zoe):
    client.force_login(zoe)

    response = client.get(reverse("login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_sign_out_is_refused_on_get(client, zoe):
    client.force_login(zoe)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert is_signed_in(client)


def test_sign_out_by_post_signs_out_and_returns_to_sign_in(client, zoe):
    client.force_login(zoe)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not is_signed_in(client)


def test_every_page_offers_sign_out_as_a_form_that_posts(client, zoe):
    client.force_login(zoe)

    page = client.get(reverse("documents:list")).content.decode()

    assert f'<form method="post" action="{reverse("logout")}">' in page


# The language switch


def test_header_offers_francais_to_an_english_reader(client, db):
    page = client.get(reverse("login")).content.decode()

    assert 'name="language" value="fr" lang="fr"' in page
    assert ">Français</button>" in page


def test_language_switch_sets_the_cookie_saves_the_choice_and_shows_french(
    client, zoe, zoe_transcript
):
    client.force_login(zoe)
    document_url = reverse("documents:detail", args=[zoe_transcript.pk])

    response = client.post(reverse("language_switch"), {"language": "fr", "next": document_url})

    assert response.status_code == 302
    assert response["Location"] == document_url
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    zoe.refresh_from_db()
    assert zoe.language == "fr"
    page = client.get(document_url)
    assert html_lang(page) == "fr"
    assert ">Partager</a>" in page.content.decode()
    assert ">English</button>" in page.content.decode()


def test_french_pages_format_dates_in_french(client, zoe, university):
    testing.make_document(zoe, university, "Relevé", issue_date=datetime.date(2026, 6, 1))
    client.force_login(zoe)
    client.post(reverse("language_switch"), {"language": "fr", "next": "/"})

    page = client.get(reverse("documents:list")).content.decode()

    assert "1 juin 2026" in page


def test_switching_back_to_english_shows_english(client, zoe, zoe_transcript):
    client.force_login(zoe)
    document_url = reverse("documents:detail", args=[zoe_transcript.pk])
    client.post(reverse("language_switch"), {"language": "fr", "next": document_url})

    client.post(reverse("language_switch"), {"language": "en", "next": document_url})

    page = client.get(document_url)
    assert html_lang(page) == "en"
    assert ">Share</a>" in page.content.decode()
    zoe.refresh_from_db()
    assert zoe.language == "en"


def test_an_anonymous_visitor_can_switch_language(client, db):
    response = client.post(reverse("language_switch"), {"language": "fr", "next": reverse("login")})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    page = client.get(reverse("login"))
    assert html_lang(page) == "fr"
    assert "Mot de passe" in page.content.decode()


def test_language_switch_is_refused_on_get(client, zoe):
    client.force_login(zoe)

    response = client.get(reverse("language_switch"), {"language": "fr"})

    assert response.status_code == 405
    zoe.refresh_from_db()
    assert zoe.language == "en"


def test_language_switch_needs_the_csrf_token(zoe):
    client = Client(enforce_csrf_checks=True)
    client.force_login(zoe)

    response = client.post(reverse("language_switch"), {"language": "fr", "next": "/"})

    assert response.status_code == 403
    zoe.refresh_from_db()
    assert zoe.language == "en"


@pytest.mark.parametrize("language", ["de", "", "fr-xx", "../fr"])
def test_an_unknown_language_is_a_bad_request(client, zoe, language):
    client.force_login(zoe)

    response = client.post(reverse("language_switch"), {"language": language, "next": "/"})

    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    zoe.refresh_from_db()
    assert zoe.language == "en"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/documents/", "http://evil.example", ""],
)
def test_language_switch_does_not_follow_next_to_another_host(client, zoe, next_url):
    client.force_login(zoe)

    response = client.post(reverse("language_switch"), {"language": "fr", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_signing_in_applies_the_language_saved_on_the_account(client, db):
    testing.make_user("francine@example.org", "Francine Lavoie", language="fr")

    response = sign_in(client, "francine@example.org")

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    page = client.get(reverse("documents:list"))
    assert html_lang(page) == "fr"
    assert ">English</button>" in page.content.decode()


def test_the_saved_language_follows_the_learner_to_a_new_browser(client, zoe, zoe_transcript):
    first_browser = Client()
    first_browser.force_login(zoe)
    first_browser.post(reverse("language_switch"), {"language": "fr", "next": "/"})

    client.force_login(zoe)  # a new browser: no language cookie
    page = client.get(reverse("documents:detail", args=[zoe_transcript.pk]))

    assert html_lang(page) == "fr"
    assert ">Partager</a>" in page.content.decode()


def test_the_language_cookie_wins_over_the_saved_language(client, zoe):
    zoe.language = "fr"
    zoe.save(update_fields=["language"])
    client.force_login(zoe)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get(reverse("documents:list"))

    assert html_lang(page) == "en"
