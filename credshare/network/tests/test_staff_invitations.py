"""Staff join by invitation only (issue 14): the administrator enters an address and a role and
gets the same answer whether or not the address has an account; the person gets an email (in
their language) and becomes a member only by accepting it; pending invitations are listed,
withdrawable and expire; every step is in the audit log. Followed end to end through the
emails of the outbox."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credshare.accounts.models import Invitation, User
from credshare.accounts.services import invitation_send
from credshare.audit.models import AuditEntry
from credshare.audit.models import Event as AuditEvent
from credshare.core import testing
from credshare.network.models import Membership
from credshare.network.tests.conftest import errors_next_to, text_of
from credshare.notifications.models import OutgoingEmail

PASSWORD = "a long passphrase of mine"


@pytest.fixture(autouse=True)
def _emails(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CREDSHARE_BASE_URL = "https://credshare.example"


def url(name, organization, *args):
    return reverse(f"network:{name}", args=[organization.slug, *args])


def invite(client, organization, email, role="staff", language="en"):
    return client.post(
        url("member_invite", organization), {"email": email, "role": role, "language": language}
    )


def email_to(address: str) -> OutgoingEmail:
    return OutgoingEmail.objects.filter(to=address).latest("pk")


def link_in(email: OutgoingEmail) -> str:
    [link] = re.findall(r"https://credshare\.example/\S+", email.text_body)
    return link.removeprefix("https://credshare.example")


def events(organization) -> list[str]:
    """The membership events of ORGANIZATION's audit log, oldest first."""
    return list(
        AuditEntry.objects.filter(
            organizations__organization=organization, event__startswith="member."
        )
        .order_by("sequence")
        .values_list("event", flat=True)
    )


def is_member(user, organization) -> bool:
    return Membership.objects.filter(user=user, organization=organization).exists()


def answer(response) -> tuple:
    """What the administrator observes of an invitation sent: status, where it leads, and
    the messages shown there."""
    followed = response.client.get(response["Location"])
    messages = [str(message) for message in followed.context["messages"]]
    return response.status_code, response["Location"], messages


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(admin_client, ecole, bob):
    known = answer(invite(admin_client, ecole, "bob@example.org"))
    unknown = answer(invite(admin_client, ecole, "nobody@example.org"))

    assert known[2] == [
        "An invitation was sent to bob@example.org. They become a member once they accept it."
    ]
    assert str(known).replace("bob@example.org", "X") == str(unknown).replace(
        "nobody@example.org", "X"
    )
    # Both wait for an answer, listed alike.
    page = admin_client.get(url("staff", ecole)).content.decode()
    rows = re.findall(r'<tr id="invitation-\d+">(.*?)</tr>', page, flags=re.S)
    anonymized = [re.sub(r"\S+@example\.org|invitations/\d+/", "X", row) for row in rows]
    assert len(anonymized) == 2 and anonymized[0] == anonymized[1]
    # Neither is a member yet; both got an email.
    assert not is_member(bob, ecole)
    assert email_to("bob@example.org") and email_to("nobody@example.org")


def test_an_existing_account_joins_only_once_it_accepts(admin_client, ecole, bob):
    invite(admin_client, ecole, "bob@example.org", role="admin")
    email = email_to("bob@example.org")
    assert "Join Ecole Imaginaire on credshare" in email.subject
    assert "You become a member only if you accept" in email.text_body
    link = link_in(email)

    # Signed out, the link leads to signing in with the address.
    signed_out = Client().get(link)
    assert "bob@example.org already has an account: sign in with it to answer." in text_of(
        signed_out
    )
    assert not is_member(bob, ecole)

    client = Client()
    client.force_login(bob)
    page = text_of(client.get(link))
    assert "Ecole Imaginaire invites bob@example.org to join its staff on credshare." in page
    assert not is_member(bob, ecole)  # opening the link changes nothing
    response = client.post(link, {"action": "accept"}, follow=True)

    assert Membership.objects.get(user=bob, organization=ecole).role == "admin"
    assert "You are now a member of Ecole Imaginaire." in text_of(response)
    assert events(ecole) == [AuditEvent.MEMBER_INVITED, AuditEvent.MEMBER_JOINED]
    joined = AuditEntry.objects.get(event=AuditEvent.MEMBER_JOINED)
    assert joined.actor_user == bob
    assert joined.details["role"] == "admin"
    # The invitation left the pending list.
    assert 'id="invitation-' not in admin_client.get(url("staff", ecole)).content.decode()


def test_a_new_person_joins_by_opening_an_account_from_the_email(admin_client, ecole):
    invite(admin_client, ecole, "newcomer@example.org", role="staff")
    link = link_in(email_to("newcomer@example.org"))
    client = Client()
    assert "open your account with it" in text_of(client.get(link))

    response = client.post(
        f"{link}signup/",
        {
            "full_name": "New Comer",
            "email": "mallory@example.org",  # the invited address is used, not this one
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    newcomer = User.objects.get(email="newcomer@example.org")
    assert Membership.objects.get(user=newcomer, organization=ecole).role == "staff"
    assert not User.objects.filter(email="mallory@example.org").exists()
    # A staff member must set up two-factor authentication before anything else.
    assert client.get(reverse("inbox:list"))["Location"] == reverse("mfa_index")
    assert events(ecole) == [AuditEvent.MEMBER_INVITED, AuditEvent.MEMBER_JOINED]


def test_declining_leaves_the_person_out_and_is_recorded(admin_client, ecole, bob):
    invite(admin_client, ecole, "bob@example.org")
    link = link_in(email_to("bob@example.org"))
    client = Client()
    client.force_login(bob)

    response = client.post(link, {"action": "decline"}, follow=True)

    assert "You declined the invitation." in text_of(response)
    assert not is_member(bob, ecole)
    assert events(ecole) == [AuditEvent.MEMBER_INVITED, AuditEvent.MEMBER_INVITATION_DECLINED]
    assert client.post(link, {"action": "accept"}).status_code == 410
    assert not is_member(bob, ecole)


def test_someone_without_an_account_declines_from_the_link(admin_client, ecole):
    invite(admin_client, ecole, "newcomer@example.org")
    link = link_in(email_to("newcomer@example.org"))

    Client().post(link, {"action": "decline"})

    assert Invitation.objects.get().status == Invitation.Status.DECLINED
    entry = AuditEntry.objects.get(event=AuditEvent.MEMBER_INVITATION_DECLINED)
    assert entry.actor_kind == AuditEntry.ActorKind.VISITOR


def test_pending_invitations_are_listed_withdrawable_and_expire(admin_client, ecole, bob):
    invite(admin_client, ecole, "bob@example.org", role="admin")
    invite(admin_client, ecole, "later@example.org")
    link = link_in(email_to("bob@example.org"))
    page = admin_client.get(url("staff", ecole))
    [bobs] = Invitation.objects.filter(email="bob@example.org")
    assert 'id="invitation-' in page.content.decode()
    assert "bob@example.org Administrator" in text_of(page)
    # A staff invitation stays open a week.
    lifetime = bobs.expires_at - bobs.created
    assert datetime.timedelta(days=6, hours=23) < lifetime <= datetime.timedelta(days=7)

    response = admin_client.post(url("invitation_revoke", ecole, bobs.pk), follow=True)

    assert "The invitation to bob@example.org is withdrawn." in text_of(response)
    assert f'id="invitation-{bobs.pk}"' not in response.content.decode()
    client = Client()
    client.force_login(bob)
    withdrawn = client.post(link, {"action": "accept"})
    assert withdrawn.status_code == 410
    assert "Whoever sent it withdrew it." in text_of(withdrawn)
    assert not is_member(bob, ecole)
    # Withdrawing again says it no longer waits.
    again = admin_client.post(url("invitation_revoke", ecole, bobs.pk))
    assert again.status_code == 400
    assert "This invitation was withdrawn by whoever sent it." in text_of(again)
    # An expired one leaves the list.
    Invitation.objects.filter(email="later@example.org").update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert "later@example.org" not in text_of(admin_client.get(url("staff", ecole)))
    assert events(ecole) == [
        AuditEvent.MEMBER_INVITED,
        AuditEvent.MEMBER_INVITED,
        AuditEvent.MEMBER_INVITATION_REVOKED,
    ]


def test_another_organizations_invitation_cannot_be_withdrawn(
    admin_client, ecole, acme, acme_admin
):
    other = Client()
    other.force_login(acme_admin)
    invite(other, acme, "bob@example.org")
    acmes = Invitation.objects.get()

    assert admin_client.post(url("invitation_revoke", ecole, acmes.pk)).status_code == 404
    assert admin_client.post(url("invitation_revoke", acme, acmes.pk)).status_code == 404
    assert Invitation.objects.get().status == Invitation.Status.OPEN


def test_a_second_invitation_to_a_waiting_address_is_refused(admin_client, ecole):
    invite(admin_client, ecole, "newcomer@example.org")

    response = invite(admin_client, ecole, " NEWCOMER@example.org ")

    assert response.status_code == 400
    assert "An invitation to newcomer@example.org is waiting for an answer" in errors_next_to(
        response, "email"
    )
    assert Invitation.objects.count() == 1
    assert OutgoingEmail.objects.filter(to="newcomer@example.org").count() == 1


@pytest.mark.parametrize(
    ("account_language", "chosen", "expected"),
    [
        ("fr", "en", "Joignez-vous"),  # an account's own language wins
        ("en", "fr", "Join"),
        (None, "fr", "Joignez-vous"),  # no account: the one the administrator chose
        (None, "en", "Join"),
    ],
)
def test_the_email_is_in_the_persons_language(
    admin_client, ecole, account_language, chosen, expected
):
    if account_language:
        testing.make_user("person@example.org", "A Person", language=account_language)

    invite(admin_client, ecole, "person@example.org", language=chosen)

    assert email_to("person@example.org").subject.startswith(expected + " ")


def test_an_invitation_to_a_member_keeps_their_role(admin_client, ecole, camille):
    # Camille's other verified address: the administrator cannot tell it is hers.
    EmailAddress.objects.create(user=camille, email="camille@home.example", verified=True)
    invite(admin_client, ecole, "camille@home.example", role="admin")
    client = Client()
    client.force_login(camille)

    client.post(link_in(email_to("camille@home.example")), {"action": "accept"})

    assert Membership.objects.get(user=camille, organization=ecole).role == "staff"


def test_role_changes_and_removals_are_recorded(admin_client, ecole, camille):
    member = Membership.objects.get(user=camille, organization=ecole)
    admin_client.post(url("member_role", ecole, member.pk), {"role": "admin"})
    admin_client.post(url("member_remove", ecole, member.pk))

    assert events(ecole) == [AuditEvent.MEMBER_ROLE_CHANGED, AuditEvent.MEMBER_REMOVED]
    changed = AuditEntry.objects.get(event=AuditEvent.MEMBER_ROLE_CHANGED)
    assert changed.details == {
        "email": "camille@ecole.example",
        "role": "admin",
        "previous_role": "staff",
    }


def test_the_staff_page_makes_as_many_queries_for_30_invitations_as_for_one(
    admin_client, ecole, ecole_admin, django_assert_max_num_queries
):
    def send(number):
        invitation_send(
            email=f"person{number}@example.org",
            purpose=Invitation.Purpose.JOIN_ORGANIZATION,
            invited_by_org=ecole,
            invited_by=ecole_admin,
            role="staff",
        )

    send(0)
    staff_url = url("staff", ecole)
    admin_client.get(staff_url)
    with CaptureQueriesContext(connection) as one:
        admin_client.get(staff_url)
    for number in range(1, 30):
        send(number)

    with django_assert_max_num_queries(len(one)):
        response = admin_client.get(staff_url)
    assert response.content.decode().count('id="invitation-') == 30


def test_the_pages_language_cookie_does_not_matter_to_the_answer(admin_client, ecole, bob):
    # The same answer in French too, for an address with and without an account.
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    known = answer(invite(admin_client, ecole, "bob@example.org"))
    unknown = answer(invite(admin_client, ecole, "nobody@example.org"))

    assert known[2][0].startswith("Une invitation a été envoyée à bob@example.org.")
    assert str(known).replace("bob@example.org", "X") == str(unknown).replace(
        "nobody@example.org", "X"
    )
