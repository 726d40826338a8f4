"""Sign-up by email: the address must be verified (a link sent through the outbox, in the
reader's language, on CREDSHARE_BASE_URL) before the account can sign in."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.urls import reverse

from credshare.accounts.models import User
from credshare.accounts.tests.conftest import last_email_to, link_in
from credshare.core import testing

GOOD_PASSWORD = "a long passphrase of mine"  # noqa: S105 -- test value


def sign_up(client, email="new@example.org", password=GOOD_PASSWORD, **extra):
    return client.post(
        reverse("account_signup"),
        {
            "full_name": "Noémie Nouvelle",
            "email": email,
            "password1": password,
            "password2": password,
            **extra,
        },
    )


def test_the_sign_up_page_asks_for_a_name_an_address_and_a_password_twice(client, db):
    page = client.get(reverse("account_signup")).content.decode()

    for name in ("full_name", "email", "password1", "password2"):
        assert f'name="{name}"' in page
    assert "Full name" in page


def test_signing_up_sends_a_verification_link_and_the_account_cannot_sign_in_before(client, db):
    response = sign_up(client)

    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.org")
    assert user.full_name == "Noémie Nouvelle"
    assert not EmailAddress.objects.get(user=user).verified
    email = last_email_to("new@example.org")
    assert link_in(email).startswith("/accounts/confirm-email/")

    stranger = client.__class__()
    attempt = stranger.post(
        reverse("login"), {"login": "new@example.org", "password": GOOD_PASSWORD}
    )
    assert attempt["Location"] == reverse("account_email_verification_sent")
    assert stranger.get(reverse("documents:list")).status_code == 302


def test_following_the_link_verifies_the_address_and_signs_in(client, db):
    sign_up(client)
    link = link_in(last_email_to("new@example.org"))

    assert client.get(link).status_code == 200  # a page with a button: scanners change nothing
    response = client.post(link)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@example.org").verified
    assert client.get(reverse("documents:list")).status_code == 200


def test_a_french_sign_up_gets_a_french_account_and_a_french_email(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    sign_up(client)

    assert User.objects.get(email="new@example.org").language == "fr"
    email = last_email_to("new@example.org")
    assert email.language == "fr"
    assert "adresse" in email.text_body.lower()
    assert "https://credshare.example/accounts/confirm-email/" in email.text_body


def test_a_short_or_common_password_is_refused_with_its_reason(client, db):
    too_short = sign_up(client, password="short-pass1")
    common = sign_up(client, password="111111111111")

    assert "at least 12 characters" in too_short.content.decode()
    assert "too common" in common.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


def test_no_composition_rule_a_long_lowercase_passphrase_is_enough(client, db):
    sign_up(client, password="correct horse battery staple")

    assert User.objects.filter(email="new@example.org").exists()


def test_signing_up_with_a_taken_address_looks_the_same_and_warns_its_owner(client, zoe):
    new = sign_up(client.__class__(), email="brand-new@example.org")
    taken = sign_up(client, email="zoe@example.org")

    assert taken.status_code == new.status_code == 302
    assert taken["Location"] == new["Location"]
    assert User.objects.filter(email="zoe@example.org").count() == 1
    warning = last_email_to("zoe@example.org")
    assert "/accounts/password/reset/" in warning.text_body
    assert "https://credshare.example" in warning.text_body


def test_the_pages_use_our_layout_in_both_languages(client, db):
    english = client.get(reverse("account_reset_password")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("account_reset_password")).content.decode()

    assert 'class="site-header"' in english and 'class="site-footer"' in english
    assert "Password Reset" in english
    assert 'lang="fr"' in french
    assert "Réinitialisation du mot de passe" in french
    assert "Verify a document" not in french and "Vérifier un document" in french


def test_an_unverified_test_account_is_asked_to_verify(client, db):
    testing.make_user("late@example.org", verified=False)

    response = client.post(
        reverse("login"), {"login": "late@example.org", "password": testing.PASSWORD}
    )

    assert response["Location"] == reverse("account_email_verification_sent")
