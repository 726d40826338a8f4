"""Only the address an invitation was sent to can take it up (issue 14), for every purpose:
someone signed in with another account is refused and nothing changes; the sign-up from the
link opens the account with the invited address, whatever is posted; a used, declined,
withdrawn or expired invitation says so."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credshare.accounts.models import Invitation, User
from credshare.accounts.selectors import user_with_email
from credshare.accounts.services import invitation_send
from credshare.accounts.tests.conftest import last_email_to, link_in
from credshare.core import testing
from credshare.network.models import Membership
from credshare.notifications.models import OutgoingEmail

INVITED = "invited@example.org"
PASSWORD = "a long passphrase of mine"
PURPOSES = list(Invitation.Purpose.values)


@pytest.fixture(params=PURPOSES)
def purpose(request):
    return request.param


def invite(purpose: str, organization, email: str = INVITED) -> tuple[Invitation, str]:
    """An invitation for PURPOSE to EMAIL, and the link of its email."""
    invitation = invitation_send(
        email=email,
        purpose=purpose,
        invited_by_org=organization,
        role=Membership.Role.STAFF if purpose == Invitation.Purpose.JOIN_ORGANIZATION else "",
    )
    return invitation, link_in(last_email_to(email))


def nothing_changed(invitation: Invitation, organization) -> None:
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.OPEN
    assert not EmailAddress.objects.filter(email=INVITED).exclude(user__email=INVITED).exists()
    assert not Membership.objects.filter(organization=organization).exists()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_signed_in_with_another_account_the_invitation_is_refused(purpose, ecole, zoe):
    invitation, link = invite(purpose, ecole)
    client = signed_in(zoe)

    page = client.get(link)
    accepted = client.post(link, {"action": "accept"})
    declined = client.post(link, {"action": "decline"})

    for response in (page, accepted, declined):
        assert response.status_code == 403
        text = response.content.decode()
        assert "This invitation was sent to invited@example.org" in text
        assert "zoe@example.org" in text
        assert 'value="accept"' not in text
    nothing_changed(invitation, ecole)
    assert user_with_email(INVITED) is None


def test_an_unconfirmed_address_on_the_account_does_not_count(purpose, ecole, zoe):
    # Anyone can add any address to their account, unconfirmed: it proves nothing.
    EmailAddress.objects.create(user=zoe, email=INVITED, verified=False)
    invitation, link = invite(purpose, ecole)

    response = signed_in(zoe).post(link, {"action": "accept"})

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.OPEN
    assert not EmailAddress.objects.get(email=INVITED).verified
    assert not Membership.objects.filter(organization=ecole).exists()


def test_the_refusal_is_in_french_for_a_french_page(purpose, ecole, zoe):
    _invitation, link = invite(purpose, ecole)
    client = signed_in(zoe)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    text = client.get(link).content.decode()

    assert "Cette invitation a été envoyée à invited@example.org" in text


def test_signed_in_with_the_invited_address_the_invitation_is_accepted(purpose, ecole):
    invited = testing.make_user(INVITED, "Ina Vitée")
    invitation, link = invite(purpose, ecole)
    client = signed_in(invited)

    assert 'value="accept"' in client.get(link).content.decode()
    response = client.post(link, {"action": "accept"})

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.accepted_by == invited
    assert EmailAddress.objects.get(email=INVITED).verified
    joined = Membership.objects.filter(organization=ecole, user=invited, role="staff").exists()
    assert joined == (purpose == Invitation.Purpose.JOIN_ORGANIZATION)


def test_signing_up_from_the_link_opens_the_account_with_the_invited_address(purpose, ecole):
    invitation, link = invite(purpose, ecole)
    client = Client()
    signup_url = reverse("accounts:invitation_signup", args=[link.rstrip("/").rsplit("/")[-1]])
    assert f'href="{signup_url}"' in client.get(link).content.decode()
    form = client.get(signup_url).content.decode()
    assert 'value="invited@example.org"' in form
    assert "disabled" in form.split('name="email"')[1].split(">")[0]
    sent = OutgoingEmail.objects.count()

    response = client.post(
        signup_url,
        {
            "full_name": "Someone Else",
            "email": "someone.else@example.org",  # ignored: the invited address is used
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    user = User.objects.get(full_name="Someone Else")
    assert user.email == INVITED
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        (INVITED, True)
    ]
    assert user_with_email("someone.else@example.org") is None
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    joined = Membership.objects.filter(organization=ecole, user=user).exists()
    assert joined == (purpose == Invitation.Purpose.JOIN_ORGANIZATION)
    assert OutgoingEmail.objects.count() == sent  # no confirmation needed


def test_the_sign_up_page_of_an_address_with_an_account_leads_to_signing_in(purpose, ecole):
    testing.make_user(INVITED, "Ina Vitée")
    _invitation, link = invite(purpose, ecole)

    response = Client().get(f"{link}signup/")

    assert response.status_code == 302
    assert response["Location"] == link


@pytest.mark.parametrize(
    ("close", "message"),
    [
        (
            lambda i: Invitation.objects.filter(pk=i.pk).update(accepted_at=timezone.now()),
            "It was already used: an invitation works once.",
        ),
        (
            lambda i: Invitation.objects.filter(pk=i.pk).update(declined_at=timezone.now()),
            "It was declined.",
        ),
        (
            lambda i: Invitation.objects.filter(pk=i.pk).update(revoked_at=timezone.now()),
            "Whoever sent it withdrew it.",
        ),
        (
            lambda i: Invitation.objects.filter(pk=i.pk).update(
                expires_at=timezone.now() - datetime.timedelta(seconds=1)
            ),
            "It has expired.",
        ),
    ],
    ids=["used", "declined", "withdrawn", "expired"],
)
def test_an_invitation_that_no_longer_works_says_why(purpose, ecole, close, message):
    invited = testing.make_user(INVITED, "Ina Vitée")
    invitation, link = invite(purpose, ecole)
    close(invitation)
    client = signed_in(invited)

    for response in (
        client.get(link),
        client.post(link, {"action": "accept"}),
        Client().get(link),
        Client().get(f"{link}signup/"),
    ):
        assert response.status_code == 410
        assert message in response.content.decode()
    assert not Membership.objects.filter(organization=ecole).exists()


def test_an_invitation_works_once(purpose, ecole):
    invited = testing.make_user(INVITED, "Ina Vitée")
    # Joining an organization gives power, which needs a second factor at the next request:
    # with an authenticator (as staff must have) the second use reaches the invitation page.
    testing.enrol_totp(invited)
    _invitation, link = invite(purpose, ecole)
    client = signed_in(invited)
    client.post(link, {"action": "accept"})

    again = client.post(link, {"action": "accept"})

    assert again.status_code == 410
    assert "It was already used" in again.content.decode()


def test_a_signed_out_visitor_who_accepts_is_sent_to_sign_in(purpose, ecole):
    invitation, link = invite(purpose, ecole)

    response = Client().post(link, {"action": "accept"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    nothing_changed(invitation, ecole)
