"""Invitations (a link that proves an address) and the same answers for known and unknown
addresses."""

import datetime

from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.accounts.models import Invitation, User
from credshare.accounts.selectors import user_with_email
from credshare.accounts.services import invitation_send
from credshare.accounts.tests.conftest import last_email_to, link_in
from credshare.notifications.models import OutgoingEmail


def invite(email="newcomer@example.org", organization=None):
    return invitation_send(
        email=email, purpose=Invitation.Purpose.CLAIM_DOCUMENTS, invited_by_org=organization
    )


def test_an_invitation_emails_a_link_on_the_base_url_and_stores_only_a_hash(university):
    invitation = invite(organization=university)

    email = last_email_to("newcomer@example.org")
    link = link_in(email)
    assert "University" in email.subject
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash
    assert len(invitation.token_hash) == 64


def test_signing_up_from_the_link_verifies_the_address_without_a_confirmation(client, db):
    invite()
    link = link_in(last_email_to("newcomer@example.org"))
    assert 'href="' + link + 'signup/"' in client.get(link).content.decode()
    signup = client.get(link + "signup/").content.decode()
    assert 'value="newcomer@example.org"' in signup
    sent_before = OutgoingEmail.objects.count()

    response = client.post(
        link + "signup/",
        {
            "full_name": "New Comer",
            "email": "newcomer@example.org",
            "password1": "a long passphrase of mine",
            "password2": "a long passphrase of mine",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="newcomer@example.org")
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("documents:list")).status_code == 200
    assert Invitation.objects.get().accepted_by == user
    assert OutgoingEmail.objects.count() == sent_before


def test_the_general_sign_up_after_following_a_link_does_not_verify_the_address(client, db):
    # The link proves the address only on the invitation's own sign-up, where the address
    # cannot be changed: the general one asks for a confirmation, as for anyone.
    invite()
    client.get(link_in(last_email_to("newcomer@example.org")))

    client.post(
        reverse("account_signup"),
        {
            "full_name": "Someone Else",
            "email": "someone@example.org",
            "password1": "a long passphrase of mine",
            "password2": "a long passphrase of mine",
        },
    )

    user = User.objects.get(email="someone@example.org")
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        ("someone@example.org", False)
    ]
    assert user_with_email("newcomer@example.org") is None
    assert Invitation.objects.get().accepted_at is None


def test_another_accounts_address_cannot_be_taken_with_an_invitation(client, zoe, bob):
    invite("bob@example.org")
    link = link_in(last_email_to("bob@example.org"))
    client.force_login(zoe)

    response = client.post(link, {"action": "accept"})

    assert response.status_code == 403
    assert "This invitation was sent to bob@example.org" in response.content.decode()
    assert EmailAddress.objects.filter(email="bob@example.org", user=zoe).count() == 0
    assert user_with_email("bob@example.org") == bob


def test_an_unknown_or_expired_link_does_not_work(client, db):
    invitation = invite()
    link = link_in(last_email_to("newcomer@example.org"))
    assert client.get(link[:-3] + "xx/").status_code == 404
    invitation.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    invitation.save()

    response = client.get(link)
    assert response.status_code == 410
    assert "It has expired." in response.content.decode()


def test_the_sign_in_error_is_the_same_for_known_and_unknown_addresses(zoe):
    known = Client().post(reverse("login"), {"login": "zoe@example.org", "password": "x" * 12})
    unknown = Client().post(reverse("login"), {"login": "no@example.org", "password": "x" * 12})

    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors


def test_a_password_reset_answers_the_same_for_known_and_unknown_addresses(zoe):
    known = Client().post(reverse("account_reset_password"), {"email": "zoe@example.org"})
    unknown = Client().post(reverse("account_reset_password"), {"email": "no@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    page = Client().get(known["Location"]).content.decode()
    assert "no@example.org" not in page
    assert "/accounts/password/reset/key/" in last_email_to("zoe@example.org").text_body
    assert "/accounts/signup/" in last_email_to("no@example.org").text_body


def test_a_reset_link_sets_a_new_password_and_lifts_a_lockout(client, zoe, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip", "login": "1000/m/ip"}
    for _ in range(10):
        client.post(reverse("login"), {"login": "zoe@example.org", "password": "wrong"})
    client.post(reverse("account_reset_password"), {"email": "zoe@example.org"})
    link = link_in(last_email_to("zoe@example.org"))
    form_url = client.get(link)["Location"]

    client.post(
        form_url, {"password1": "my brand new passphrase", "password2": "my brand new passphrase"}
    )

    response = client.post(
        reverse("login"), {"login": "zoe@example.org", "password": "my brand new passphrase"}
    )
    assert response["Location"] == reverse("home")
