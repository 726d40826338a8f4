"""Two-factor authentication: optional for learners, required of organization staff, who
are sent to set it up before any other page; an enrolled account always gets the MFA step."""

from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from credshare.core import testing


def sign_in(client, email):
    return client.post(reverse("login"), {"login": email, "password": testing.PASSWORD})


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, ecole):
    staff = testing.make_user("new-staff@ecole.example")
    testing.make_member(staff, ecole, mfa=False)
    client.force_login(staff)

    for url in (reverse("inbox:list"), reverse("documents:list"), reverse("account_email")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_index")
    page = client.get(reverse("mfa_index"), follow=True).content.decode()
    assert "two-factor authentication" in page
    assert client.get(reverse("mfa_activate_totp")).status_code in {200, 302}
    assert client.post(reverse("logout")).status_code == 302


def test_an_enrolled_account_always_gets_the_code_step(client, camille):
    response = sign_in(client, "camille@ecole.example")

    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("inbox:list")).status_code == 302  # not signed in yet
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "Incorrect code." in wrong.content.decode()

    client.post(reverse("mfa_authenticate"), {"code": testing.totp_code()})
    assert client.get(reverse("inbox:list")).status_code == 200


def test_a_learner_may_go_without_mfa_or_turn_it_on(client, zoe, zoe_transcript):
    client.force_login(zoe)
    assert client.get(reverse("documents:list")).status_code == 200

    testing.enrol_totp(zoe)
    client.post(reverse("logout"))
    assert sign_in(client, "zoe@example.org")["Location"] == reverse("mfa_authenticate")


def test_removing_the_only_authenticator_sends_staff_back_to_setup(ecole):
    staff = testing.make_user("staff@ecole.example")
    testing.make_member(staff, ecole)
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("inbox:list")).status_code == 200

    Authenticator.objects.filter(user=staff).delete()
    client.force_login(staff)  # the verdict is taken again at every sign-in

    assert client.get(reverse("inbox:list"))["Location"] == reverse("mfa_index")


def test_webauthn_is_offered(client, zoe):
    client.force_login(zoe)

    page = client.get(reverse("mfa_index")).content.decode()

    assert reverse("mfa_add_webauthn") in page
    assert reverse("mfa_activate_totp") in page
