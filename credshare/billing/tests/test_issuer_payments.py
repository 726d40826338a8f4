"""The issuer staff's payments page, revenue, grants of free shares and refunds."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credshare.billing import issuer_selectors, services
from credshare.billing.models import CreditEntry, Purchase, ShareBundle
from credshare.billing.selectors import ledger_balance
from credshare.core import testing


@pytest.fixture
def uni_admin(university):
    return testing.make_issuer_staff(university, "admin@university.example", role="admin")


@pytest.fixture
def uni_staff(university):
    return testing.make_issuer_staff(university, "staff@university.example")


@pytest.fixture
def bundle(university):
    return ShareBundle.objects.create(issuer=university, quantity=3, price_cents=2000)


def payments_url(issuer):
    return reverse("issuer_billing:payments", args=[issuer.slug])


def grant_url(issuer):
    return reverse("issuer_billing:grant", args=[issuer.slug])


# Grants -----------------------------------------------------------------------------------


def test_admin_grants_free_shares(client, university, uni_admin, zoe):
    client.force_login(uni_admin)
    before = ledger_balance(learner=zoe, issuer_id=university.pk)
    response = client.post(
        grant_url(university), {"email": " ZOE@example.org ", "shares": "5", "note": "Sorry"}
    )
    assert response.status_code == 302
    entry = CreditEntry.objects.filter(learner=zoe, kind=CreditEntry.Kind.GRANT).latest("pk")
    assert (entry.amount, entry.note, entry.issuer) == (5, "Sorry", university)
    assert ledger_balance(learner=zoe, issuer_id=university.pk) == before + 5
    assert "received 5 free shares" in client.get(grant_url(university)).content.decode()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"email": "nobody@example.org"}, "email", "No one has an account with this email"),
        ({"email": "not an email"}, "email", "Enter a valid email address."),
        ({"shares": "0"}, "shares", "greater than or equal to 1"),
        ({"shares": "101"}, "shares", "less than or equal to 100"),
        ({"note": "x" * 301}, "note", "at most 300 characters"),
    ],
)
def test_bad_grants_create_nothing(client, university, uni_admin, zoe, values, field, message):
    client.force_login(uni_admin)
    count = CreditEntry.objects.count()
    data = {"email": "zoe@example.org", "shares": "2", "note": "", **values}
    response = client.post(grant_url(university), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert CreditEntry.objects.count() == count


def test_staff_cannot_grant(client, university, uni_staff, zoe):
    client.force_login(uni_staff)
    count = CreditEntry.objects.count()
    response = client.post(grant_url(university), {"email": zoe.email, "shares": "2"})
    assert response.status_code == 403
    assert CreditEntry.objects.count() == count


# Refunds ----------------------------------------------------------------------------------


def refund(client, purchase):
    url = reverse("issuer_billing:refund", args=[purchase.issuer.slug, purchase.pk])
    return client.post(url, follow=True)


def test_admin_refunds_a_paid_purchase_and_unused_credits_are_reversed(
    client, university, uni_admin, zoe, bundle
):
    purchase = testing.make_paid_purchase(zoe, bundle)
    assert ledger_balance(learner=zoe, issuer_id=university.pk) == 1 + 3
    client.force_login(uni_admin)
    response = refund(client, purchase)
    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    assert purchase.refunded_at is not None
    reversal = CreditEntry.objects.get(purchase=purchase, kind=CreditEntry.Kind.REVERSAL)
    assert reversal.amount == -3
    assert ledger_balance(learner=zoe, issuer_id=university.pk) == 1
    page = response.content.decode()
    assert f"Purchase {purchase.receipt_number} is refunded." in page
    assert "status-refunded" in page


def test_refunding_twice_is_refused_and_reverses_once(client, university, uni_admin, zoe, bundle):
    purchase = testing.make_paid_purchase(zoe, bundle)
    client.force_login(uni_admin)
    refund(client, purchase)
    response = refund(client, purchase)
    assert "Only a paid purchase can be refunded." in response.content.decode()
    assert CreditEntry.objects.filter(purchase=purchase, kind="reversal").count() == 1


@pytest.mark.parametrize("status", ["pending", "failed", "cancelled"])
def test_a_purchase_not_paid_is_not_refunded(client, university, uni_admin, zoe, bundle, status):
    purchase = services.purchase_start(learner=zoe, provider="sandbox", bundle=bundle)
    Purchase.objects.filter(pk=purchase.pk).update(status=status)
    client.force_login(uni_admin)
    response = refund(client, purchase)
    assert "Only a paid purchase can be refunded." in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == status
    assert not CreditEntry.objects.filter(purchase=purchase).exists()


def test_staff_cannot_refund(client, university, uni_staff, zoe, bundle):
    purchase = testing.make_paid_purchase(zoe, bundle)
    client.force_login(uni_staff)
    url = reverse("issuer_billing:refund", args=[university.slug, purchase.pk])
    assert client.post(url).status_code == 403
    assert b">Refund<" not in client.get(payments_url(university)).content
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID


def test_another_issuers_purchase_is_404(client, university, uni_admin, zoe):
    other = testing.make_organization("other-university", issuer=True)
    other_bundle = ShareBundle.objects.create(issuer=other, quantity=1, price_cents=100)
    purchase = testing.make_paid_purchase(zoe, other_bundle)
    client.force_login(uni_admin)
    url = reverse("issuer_billing:refund", args=[university.slug, purchase.pk])
    assert client.post(url).status_code == 404
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID


def test_a_refund_the_provider_reports_later_leaves_the_purchase_paid(
    client, university, uni_admin, zoe, bundle, monkeypatch
):
    from credshare.billing import providers

    purchase = testing.make_paid_purchase(zoe, bundle)
    monkeypatch.setattr(providers.SandboxProvider, "refund", lambda self, *, purchase: None)
    client.force_login(uni_admin)
    response = refund(client, purchase)
    assert "when the payment provider confirms it" in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID


# The payments page and revenue ------------------------------------------------------------


def test_payments_list_shows_learner_what_total_and_status(
    client, university, uni_staff, zoe, bundle
):
    testing.make_paid_purchase(zoe, bundle)
    client.force_login(uni_staff)
    page = client.get(payments_url(university)).content.decode()
    assert "Zoé Citoyenne" in page
    assert "zoe@example.org" in page
    assert "3 shares" in page
    assert "20.00\N{NO-BREAK SPACE}CAD" in page
    assert "Paid" in page


def test_revenue_is_paid_minus_refunded_per_currency_and_period(university, zoe, bundle):
    testing.make_paid_purchase(zoe, bundle)  # 20.00 CAD
    refunded = testing.make_paid_purchase(zoe, bundle)  # 20.00 CAD, refunded
    services.purchase_refund(purchase=refunded, by=zoe)
    old = testing.make_paid_purchase(zoe, bundle)  # 20.00 CAD, paid 40 days ago
    Purchase.objects.filter(pk=old.pk).update(paid_at=timezone.now() - datetime.timedelta(days=40))
    usd = testing.make_paid_purchase(zoe, bundle)
    Purchase.objects.filter(pk=usd.pk).update(currency="USD", total_cents=1234)
    services.purchase_start(learner=zoe, provider="sandbox", bundle=bundle)  # pending: none

    all_time = issuer_selectors.revenue_of_issuer(issuer=university)
    assert [(r.currency, r.paid_cents, r.refunded_cents, r.net_cents) for r in all_time] == [
        ("CAD", 6000, 2000, 4000),
        ("USD", 1234, 0, 1234),
    ]
    recent = issuer_selectors.revenue_of_issuer(
        issuer=university, since=issuer_selectors.recent_since()
    )
    assert [(r.currency, r.net_cents) for r in recent] == [("CAD", 2000), ("USD", 1234)]


def test_revenue_on_the_page(client, university, uni_staff, zoe, bundle):
    testing.make_paid_purchase(zoe, bundle)
    client.force_login(uni_staff)
    response = client.get(payments_url(university))
    revenue = response.context["revenue"]
    assert revenue["all"] == [
        (
            "CAD",
            "20.00\N{NO-BREAK SPACE}CAD",
            "0.00\N{NO-BREAK SPACE}CAD",
            "20.00\N{NO-BREAK SPACE}CAD",
        )
    ]
    assert "Last 30 days" in response.content.decode()


def test_payments_are_newest_first_and_paginated(client, university, uni_staff, zoe, bundle):
    purchases = [
        services.purchase_start(learner=zoe, provider="sandbox", bundle=bundle) for _ in range(27)
    ]
    client.force_login(uni_staff)
    response = client.get(payments_url(university))
    rows = [purchase for purchase, _total in response.context["rows"]]
    assert len(rows) == 25
    assert rows[0] == purchases[-1]
    second = client.get(payments_url(university), {"page": 2})
    assert len(second.context["rows"]) == 2


def test_the_payments_page_makes_no_query_per_row(client, university, uni_admin, bundle):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(payments_url(university)).status_code == 200
        return len(context.captured_queries)

    learner = testing.make_user("l0@example.org")
    testing.make_paid_purchase(learner, bundle)
    client.force_login(uni_admin)
    few = queries()
    for number in range(1, 15):
        learner = testing.make_user(f"l{number}@example.org")
        testing.make_paid_purchase(learner, bundle)
        document = testing.make_document(learner, university)
        purchase = services.purchase_start(learner=learner, provider="sandbox", bundle=bundle)
        Purchase.objects.filter(pk=purchase.pk).update(
            kind=Purchase.Kind.COLLECTION, document=document, bundle=None
        )
    assert queries() == few
    # session, user, membership, count, rows, revenue twice, and the header's two lazy values
    assert few <= 9
