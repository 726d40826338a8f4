"""Simultaneous changes on PostgreSQL, where requests really run in parallel: however they
interleave, the organization keeps an administrator, and fields added at once get their
own keys and positions."""

import threading

import pytest
from django.db import connection

from credshare.core import testing
from credshare.core.errors import ApplicationError
from credshare.network.models import Membership, ShareField
from credshare.network.services import membership_remove, membership_set_role, share_field_create

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
