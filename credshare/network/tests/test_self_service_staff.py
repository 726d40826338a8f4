"""An organization's members, as its administrators manage them: invite (test_staff_invitations
follows an invitation to its answer), change a role, remove; the organization always keeps one
administrator."""

import pytest
from django.urls import reverse

from credshare.accounts.models import Invitation
from credshare.core import testing
from credshare.network.models import Membership
from credshare.network.tests.conftest import errors_next_to, text_of


def url(name, organization, *args):
    return reverse(f"network:{name}", args=[organization.slug, *args])


def roles(organization) -> dict[str, str]:
    return dict(
        Membership.objects.filter(organization=organization).values_list("user__email", "role")
    )


def membership(user, organization) -> Membership:
    return Membership.objects.get(user=user, organization=organization)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"email": "camille@ecole.example", "role": "admin", "language": "en"},
            "email",
            "camille@ecole.example is already a member of the organization.",
        ),
        (
            {"email": "not-an-email", "role": "staff", "language": "en"},
            "email",
            "Enter a valid email address.",
        ),
        (
            {"email": "bob@example.org", "role": "owner", "language": "en"},
            "role",
            "Choose a role from the list.",
        ),
        (
            {"email": "bob@example.org", "role": "staff", "language": "xx"},
            "language",
            "Choose a language from the list.",
        ),
    ],
)
def test_a_bad_invitation_is_refused_next_to_its_field(
    admin_client, ecole, camille, bob, data, field, message
):
    before = roles(ecole)

    response = admin_client.post(url("member_invite", ecole), data)

    assert response.status_code == 400
    assert message in errors_next_to(response, field)
    assert roles(ecole) == before
    assert not Invitation.objects.exists()


def test_an_admin_changes_a_role(admin_client, ecole, camille):
    response = admin_client.post(
        url("member_role", ecole, membership(camille, ecole).pk), {"role": "admin"}
    )

    assert response.status_code == 302
    assert roles(ecole)["camille@ecole.example"] == "admin"
    assert "Camille Tremblay's role is now Administrator." in text_of(
        admin_client.get(response["Location"])
    )


def test_a_bad_role_is_refused_next_to_the_members_role(admin_client, ecole, camille):
    member = membership(camille, ecole)
    response = admin_client.post(url("member_role", ecole, member.pk), {"role": "owner"})

    assert response.status_code == 400
    errors = response.content.decode()
    assert f'id="role-{member.pk}_errors"><li>Choose a role from the list.</li>' in errors
    assert roles(ecole)["camille@ecole.example"] == "staff"


def test_the_last_admin_cannot_be_demoted(admin_client, ecole, ecole_admin, camille):
    member = membership(ecole_admin, ecole)

    response = admin_client.post(url("member_role", ecole, member.pk), {"role": "staff"})

    assert response.status_code == 400
    assert (
        f'id="role-{member.pk}_errors"><li>The organization needs at least one administrator'
        in response.content.decode()
    )
    assert roles(ecole)["admin@ecole.example"] == "admin"


def test_the_last_admin_cannot_be_removed(admin_client, ecole, ecole_admin):
    member = membership(ecole_admin, ecole)
    assert "Remove Admin?" in text_of(admin_client.get(url("member_remove", ecole, member.pk)))

    response = admin_client.post(url("member_remove", ecole, member.pk))

    assert response.status_code == 400
    assert "The organization needs at least one administrator" in text_of(response)
    assert roles(ecole) == {"admin@ecole.example": "admin"}


def test_with_two_admins_one_can_step_down_and_loses_the_pages(
    admin_client, ecole, ecole_admin, camille
):
    Membership.objects.filter(user=camille, organization=ecole).update(role="admin")
    me = membership(ecole_admin, ecole)

    response = admin_client.post(url("member_role", ecole, me.pk), {"role": "staff"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert roles(ecole) == {"admin@ecole.example": "staff", "camille@ecole.example": "admin"}
    assert admin_client.get(url("staff", ecole)).status_code == 403
    # and now camille is the last one
    camille_membership = membership(camille, ecole)
    admin_client.force_login(camille)
    response = admin_client.post(
        url("member_role", ecole, camille_membership.pk), {"role": "staff"}
    )
    assert response.status_code == 400
    assert roles(ecole)["camille@ecole.example"] == "admin"


def test_an_admin_removes_a_member_after_confirming(admin_client, client, ecole, camille):
    member = membership(camille, ecole)
    page = text_of(admin_client.get(url("member_remove", ecole, member.pk)))
    assert "Remove Camille Tremblay?" in page
    assert roles(ecole)["camille@ecole.example"] == "staff"  # asking changes nothing

    response = admin_client.post(url("member_remove", ecole, member.pk))

    assert response.status_code == 302
    assert "camille@ecole.example" not in roles(ecole)
    assert "Camille Tremblay is no longer a member." in text_of(
        admin_client.get(response["Location"])
    )
    client.force_login(camille)
    assert client.get(reverse("inbox:list")).status_code == 404


def test_an_admin_removing_themselves_is_sent_home(admin_client, ecole, ecole_admin):
    other = testing.make_issuer_staff(ecole, "other-admin@ecole.example", role="admin")

    response = admin_client.post(url("member_remove", ecole, membership(ecole_admin, ecole).pk))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert roles(ecole) == {other.email: "admin"}
    assert admin_client.get(url("staff", ecole)).status_code == 404


def test_a_member_already_removed_is_a_404(admin_client, ecole, camille):
    member = membership(camille, ecole)
    admin_client.post(url("member_remove", ecole, member.pk))
    assert admin_client.post(url("member_remove", ecole, member.pk)).status_code == 404


def test_hostile_names_are_shown_as_text(admin_client, ecole):
    hostile = testing.make_user("mallory@example.org", "<script>alert(1)</script>")
    testing.make_member(hostile, ecole)
    content = admin_client.get(url("staff", ecole)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
