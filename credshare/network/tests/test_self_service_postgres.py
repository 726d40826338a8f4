"""Simultaneous changes on PostgreSQL, where requests really run in parallel: however they
interleave, the organization keeps an administrator, fields added at once get their own keys
and positions, an invitation gets one answer, and a name goes to one organization."""

import threading

import pytest
from django.db import connection

from credshare.accounts.models import Invitation
from credshare.accounts.services import invitation_accept
from credshare.core import testing
from credshare.core.errors import ApplicationError
from credshare.network.models import Membership, Organization, ShareField
from credshare.network.services import (
    membership_remove,
    membership_set_role,
    organization_profile_update,
    share_field_create,
    staff_invitation_revoke,
    staff_invitation_send,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrency"
    ),
    pytest.mark.django_db(transaction=True),
]


def at_once(actions) -> list[tuple[str, str]]:
    """Run every action in its own thread, all starting together. Returns what each gave:
    ("done", ""), ("refused", code) or ("crashed", exception)."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=30)
            action()
            outcomes[index] = ("done", "")
        except ApplicationError as error:
            outcomes[index] = ("refused", error.code)
        except Exception as error:  # reported by the test as a crash, never swallowed
            outcomes[index] = ("crashed", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def admins(organization) -> int:
    return Membership.objects.filter(organization=organization, role="admin").count()


def test_two_admins_demoting_each_other_at_once_leave_one_admin(ecole):
    alice = testing.make_issuer_staff(ecole, "alice@ecole.example", role="admin")
    bruno = testing.make_issuer_staff(ecole, "bruno@ecole.example", role="admin")
    alice_membership = Membership.objects.get(user=alice)
    bruno_membership = Membership.objects.get(user=bruno)

    outcomes = at_once(
        [
            lambda: membership_set_role(membership=bruno_membership, role="staff", by=alice),
            lambda: membership_set_role(membership=alice_membership, role="staff", by=bruno),
        ]
    )

    assert sorted(outcomes) == [("done", ""), ("refused", "last_admin")]
    assert admins(ecole) == 1


def test_ten_admins_stepping_down_at_once_leave_one_admin(ecole):
    members = [
        Membership.objects.get(
            user=testing.make_issuer_staff(ecole, f"admin{n}@ecole.example", role="admin")
        )
        for n in range(10)
    ]

    outcomes = at_once(
        [(lambda m=m: membership_set_role(membership=m, role="staff", by=m.user)) for m in members]
    )

    assert [o for o in outcomes if o[0] == "crashed"] == []
    assert outcomes.count(("refused", "last_admin")) == 1
    assert outcomes.count(("done", "")) == 9
    assert admins(ecole) == 1


def test_admins_removing_and_demoting_each_other_at_once_leave_one_admin(ecole):
    people = [
        testing.make_issuer_staff(ecole, f"admin{n}@ecole.example", role="admin") for n in range(6)
    ]
    members = [Membership.objects.get(user=person) for person in people]

    # Each admin acts on the next one: even ones remove, odd ones demote.
    actions = []
    for index, person in enumerate(people):
        target = members[(index + 1) % len(members)]
        if index % 2:
            actions.append(
                lambda t=target, p=person: membership_set_role(membership=t, role="staff", by=p)
            )
        else:
            actions.append(lambda t=target, p=person: membership_remove(membership=t, by=p))

    outcomes = at_once(actions)

    # Every admin is the target of one action: in whatever order they run, the last one
    # would leave no admin, and is refused.
    assert [o for o in outcomes if o[0] == "crashed"] == []
    assert outcomes.count(("done", "")) == 5
    assert outcomes.count(("refused", "last_admin")) == 1
    assert admins(ecole) == 1


def test_fields_added_at_once_get_distinct_keys_and_contiguous_positions(ecole):
    admin = testing.make_issuer_staff(ecole, "admin@ecole.example", role="admin")

    outcomes = at_once(
        [
            lambda: share_field_create(
                organization=ecole, by=admin, label_en="Program", label_fr="Programme"
            )
            for _ in range(5)
        ]
    )

    assert outcomes == [("done", "")] * 5
    assert list(
        ShareField.objects.filter(organization=ecole)
        .order_by("position")
        .values_list("key", "position")
    ) == [
        ("application_number", 1),
        ("intended_program", 2),
        ("program", 3),
        ("program_2", 4),
        ("program_3", 5),
        ("program_4", 6),
        ("program_5", 7),
    ]


def test_an_invitation_accepted_and_withdrawn_at_once_ends_one_way(ecole):
    # Both lock the invitation's row first: whichever comes second finds it answered.
    admin = testing.make_issuer_staff(ecole, "admin@ecole.example", role="admin")
    for attempt in range(5):
        invited = testing.make_user(f"invited{attempt}@example.org")
        invitation = staff_invitation_send(
            organization=ecole, email=invited.email, role="staff", by=admin
        )

        outcomes = at_once(
            [
                lambda i=invitation, u=invited: invitation_accept(invitation=i, user=u),
                lambda i=invitation: staff_invitation_revoke(invitation=i, by=admin),
            ]
        )

        invitation.refresh_from_db()
        joined = Membership.objects.filter(user=invited, organization=ecole).exists()
        assert sorted(o[0] for o in outcomes) == ["done", "refused"], outcomes
        assert joined == (invitation.status == Invitation.Status.ACCEPTED)
        assert invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED)


def test_two_invitations_to_one_address_at_once_make_one(ecole):
    admin = testing.make_issuer_staff(ecole, "admin@ecole.example", role="admin")

    outcomes = at_once(
        [
            lambda: staff_invitation_send(
                organization=ecole, email="twice@example.org", role="staff", by=admin
            )
            for _ in range(4)
        ]
    )

    assert sorted(outcomes) == [("done", "")] + [("refused", "already_invited")] * 3
    assert Invitation.objects.filter(email="twice@example.org").count() == 1


def test_two_organizations_taking_one_name_at_once_end_with_one(ecole, acme):
    admins = [
        testing.make_issuer_staff(organization, f"admin@{organization.slug}.example", role="admin")
        for organization in (ecole, acme)
    ]

    outcomes = at_once(
        [
            lambda organization=organization, admin=admin: organization_profile_update(
                organization=organization,
                by=admin,
                name_en="Shared Name",
                name_fr=f"Nom de {organization.slug}",
            )
            for organization, admin in zip((ecole, acme), admins, strict=True)
        ]
    )

    assert sorted(outcomes) == [("done", ""), ("refused", "name_taken")]
    assert Organization.objects.filter(name_en="Shared Name").count() == 1
