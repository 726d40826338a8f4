"""Every account with power (platform staff and superusers, organization members of any role)
completes its second factor in the session before any privileged page or action: the admin
included, whose own sign-in form leads to the product's; power gained after signing in counts
from the next request. The API, authenticated by its keys, is not concerned."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from credshare.accounts.models import User
from credshare.api.tests.conftest import make_key
from credshare.core import testing
from credshare.network.models import Membership

pytestmark = pytest.mark.django_db


def sign_in_with_password(client, email):
    """allauth's sign-in form, the password only: where it leads next."""
    response = client.post(reverse("login"), {"login": email, "password": testing.PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def give_code(client):
    response = client.post(reverse("mfa_authenticate"), {"code": testing.totp_code()})
    assert response.status_code == 302
    return response


def admin_pages() -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:mfa_authenticator_changelist"),  # its name starts with "mfa_"
        reverse("admin:network_organization_changelist"),
        reverse("admin:password_change"),
    ]


def make_platform_admin(*, superuser: bool = True, mfa: bool) -> User:
    user = testing.make_user("root@credshare.example", "Root")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=superuser)
    user.refresh_from_db()
    if mfa:
        testing.enrol_totp(user)
    return user


@pytest.mark.parametrize("superuser", [True, False], ids=["superuser", "is_staff"])
def test_a_platform_admin_without_an_authenticator_must_set_one_up(client, superuser):
    make_platform_admin(superuser=superuser, mfa=False)

    assert sign_in_with_password(client, "root@credshare.example") == reverse("home")

    for page in admin_pages():
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == reverse("mfa_index"), page


def test_the_admin_cannot_act_on_a_password_only_session(client, zoe):
    make_platform_admin(mfa=False)
    sign_in_with_password(client, "root@credshare.example")

    response = client.post(
        reverse("admin:accounts_user_change", args=[zoe.pk]),
        {"email": zoe.email, "full_name": "Renamed", "language": "en", "is_superuser": "on"},
    )
    deletion = client.post(
        reverse("admin:mfa_authenticator_changelist"),
        {"action": "delete_selected", "_selected_action": "1", "post": "yes"},
    )

    assert response["Location"] == deletion["Location"] == reverse("mfa_index")
    zoe.refresh_from_db()
    assert (zoe.full_name, zoe.is_superuser) == ("Zoé Citoyenne", False)


def test_a_platform_admin_with_an_authenticator_reaches_the_admin_only_after_the_code(client):
    make_platform_admin(mfa=True)

    assert sign_in_with_password(client, "root@credshare.example") == reverse("mfa_authenticate")
    # Not signed in until the code: the admin sends to the product's sign-in.
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))
    give_code(client)

    for page in admin_pages():
        assert client.get(page).status_code == 200, page


def test_the_admins_own_sign_in_form_leads_to_the_products(client):
    make_platform_admin(mfa=True)
    login = reverse("admin:login")

    shown = client.get(login)
    posted = client.post(login, {"username": "root@credshare.example", "password": "x"})
    posted_right = client.post(
        login, {"username": "root@credshare.example", "password": testing.PASSWORD}
    )

    for response in (shown, posted, posted_right):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert client.get(reverse("admin:index"))["Location"].startswith(login)  # still signed out


@pytest.mark.parametrize("role", [Membership.Role.STAFF, Membership.Role.ADMIN])
def test_a_member_added_mid_session_is_asked_at_the_next_request(client, zoe, ecole, role):
    assert sign_in_with_password(client, "zoe@example.org") == reverse("home")
    assert client.get(reverse("documents:list")).status_code == 200

    Membership.objects.create(user=zoe, organization=ecole, role=role)

    for url in (
        reverse("inbox:list"),
        reverse("documents:list"),
        reverse("network:keys", args=[ecole.slug]),
        reverse("network:webhooks", args=[ecole.slug]),
    ):
        assert client.get(url)["Location"] == reverse("mfa_index"), url
    made = client.post(reverse("network:key_new", args=[ecole.slug]), {"name": "Mine"})
    assert made["Location"] == reverse("mfa_index")
    assert not ecole.api_keys.exists()


def test_a_member_whose_authenticator_was_set_up_elsewhere_gives_its_code_here(client, zoe, ecole):
    sign_in_with_password(client, "zoe@example.org")  # a password-only session
    testing.make_member(zoe, ecole)  # ... then staff, with an authenticator set up elsewhere

    response = client.get(reverse("inbox:list"))

    assert response["Location"] == reverse("mfa_reauthenticate") + "?next=%2Finbox%2F"
    wrong = client.post(response["Location"], {"code": "000000"})
    assert client.get(reverse("inbox:list")).status_code == 302
    assert "Incorrect code." in wrong.content.decode()
    right = client.post(response["Location"], {"code": testing.totp_code()})
    assert right["Location"] == reverse("inbox:list")
    assert client.get(reverse("inbox:list")).status_code == 200


def test_a_password_only_session_cannot_remove_the_authenticator_instead(client, zoe, ecole):
    # Removing it, then setting up its own, would make the session one of "no authenticator
    # yet": until its code is given, the session reaches only the page that asks for it.
    sign_in_with_password(client, "zoe@example.org")
    testing.make_member(zoe, ecole)
    totp = Authenticator.objects.get(user=zoe, type=Authenticator.Type.TOTP)
    asks_code = reverse("mfa_reauthenticate")

    client.post(reverse("account_reauthenticate"), {"password": testing.PASSWORD})
    for url in (
        reverse("mfa_index"),
        reverse("mfa_deactivate_totp"),
        reverse("mfa_generate_recovery_codes"),
        reverse("mfa_activate_totp"),
    ):
        assert client.get(url)["Location"].startswith(asks_code), url
        assert client.post(url, {"id": totp.pk})["Location"].startswith(asks_code), url

    assert Authenticator.objects.filter(pk=totp.pk).exists()
    assert client.get(asks_code).status_code == 200


def test_a_learner_made_platform_staff_mid_session_is_asked_at_the_next_request(client, zoe):
    sign_in_with_password(client, "zoe@example.org")
    User.objects.filter(pk=zoe.pk).update(is_staff=True)

    assert client.get(reverse("documents:list"))["Location"] == reverse("mfa_index")
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_index")


def test_a_learner_with_a_password_only_session_keeps_her_pages(client, zoe, zoe_transcript):
    sign_in_with_password(client, "zoe@example.org")

    assert client.get(reverse("documents:list")).status_code == 200
    assert client.get(reverse("sharing:list")).status_code == 200


def test_the_api_answers_its_keys_whatever_the_session(client, zoe, zoe_transcript, ecole):
    # A staff member's browser without its second factor also holds an API key: the API
    # authenticates the key, and the session changes nothing.
    sign_in_with_password(client, "zoe@example.org")
    Membership.objects.create(user=zoe, organization=ecole, role=Membership.Role.ADMIN)
    key = make_key(ecole, ["shares:read"])
    share_to_ecole = testing.share_with(zoe, [zoe_transcript], ecole)

    response = client.get("/api/v1/shares", HTTP_AUTHORIZATION=f"Bearer {key.text}")
    without_key = client.get("/api/v1/shares")

    assert response.status_code == 200
    assert [share["id"] for share in response.json()["items"]] == [str(share_to_ecole.public_id)]
    assert without_key.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_setting_up_an_authenticator_completes_the_session(ecole):
    # transaction=True: allauth announces a new authenticator once its transaction commits,
    # inside the request as in production.
    staff = testing.make_user("new-staff@ecole.example")
    testing.make_member(staff, ecole, mfa=False)
    client = Client()
    sign_in_with_password(client, "new-staff@ecole.example")
    assert client.get(reverse("inbox:list"))["Location"] == reverse("mfa_index")
    client.post(reverse("account_reauthenticate"), {"password": testing.PASSWORD})

    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    client.post(reverse("mfa_activate_totp"), {"code": testing.totp_code(secret)})

    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("inbox:list")).status_code == 200


def test_removing_the_last_authenticator_ends_the_sessions_second_factor(client, ecole):
    staff = testing.make_user("staff@ecole.example")
    testing.make_member(staff, ecole)
    sign_in_with_password(client, "staff@ecole.example")
    give_code(client)
    assert client.get(reverse("inbox:list")).status_code == 200
    # allauth asks for the password again before an authenticator is removed.
    client.post(reverse("account_reauthenticate"), {"password": testing.PASSWORD})

    totp = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP)
    client.post(reverse("mfa_deactivate_totp"), {"id": totp.pk})

    assert not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("inbox:list"))["Location"] == reverse("mfa_index")


PRODUCTION_SCRIPT = """
from django.core.management import call_command
from django.test import Client
from credshare.accounts.models import User
from credshare.core import testing

call_command("migrate", verbosity=0)
admin = testing.make_user("root@credshare.example", "Root")
User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)

def browser():
    # Behind the TLS proxy production expects (CREDSHARE_PROXY_SSL_HEADER).
    return Client(HTTP_HOST="credshare.example.org", HTTP_X_FORWARDED_PROTO="https")

def sign_in(client):
    response = client.post(
        "/accounts/login/", {"login": "root@credshare.example", "password": testing.PASSWORD}
    )
    return response["Location"]

password_only = browser()
print("signed in:", sign_in(password_only))
print("admin without an authenticator:", password_only.get("/admin/")["Location"])
print("its users:", password_only.get("/admin/accounts/user/")["Location"])

testing.enrol_totp(admin)
print("set up elsewhere, same session:", password_only.get("/admin/")["Location"])
with_code = browser()
print("signed in with an authenticator:", sign_in(with_code))
print("admin before the code:", with_code.get("/admin/")["Location"])
with_code.post("/accounts/2fa/authenticate/", {"code": testing.totp_code()})
print("admin after the code:", with_code.get("/admin/").status_code)
"""


def test_the_admin_needs_the_second_factor_in_the_production_profile_too(tmp_path):
    # Settings are read once per process: the production profile runs in one of its own.
    from credshare.core.tests.test_deploy_profile import manage, production_env

    environment = production_env(tmp_path, CREDSHARE_CACHE_URL="", CREDSHARE_TASKS="none")
    result = manage("shell", "--no-imports", "-c", PRODUCTION_SCRIPT, env=environment)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "signed in: /",
        "admin without an authenticator: /accounts/2fa/",
        "its users: /accounts/2fa/",
        "set up elsewhere, same session: /accounts/2fa/reauthenticate/?next=%2Fadmin%2F",
        "signed in with an authenticator: /accounts/2fa/authenticate/",
        "admin before the code: /admin/login/?next=/admin/",
        "admin after the code: 200",
    ]
