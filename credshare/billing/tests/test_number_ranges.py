"""Numbers typed into the billing pages (free shares, bundle sizes and prices, shares granted,
the bundle chosen, ids in paths) past what a column holds are refused with a message or a
404, never a 500, and change nothing."""

import pytest
from django.urls import reverse

from credshare.billing.models import CreditEntry, FeePolicy, ShareBundle
from credshare.core import testing

HUGE = "99999999999999999999"
NUMBERS = [HUGE, str(2**31), str(2**63), "-" + HUGE, "1e30"]


@pytest.fixture
def admin_client(client, university):
    client.raise_request_exception = False  # a 500 is an answer to assert on
    client.force_login(
        testing.make_issuer_staff(university, "admin@university.example", role="admin")
    )
    return client


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize(
    ("url_name", "data", "form", "field"),
    [
        (
            "issuer_billing:settings",
            {"sharing": "paid", "collection_fee": "0", "currency": "CAD", "tax_rate": "0"},
            "policy_form",
            "free_shares",
        ),
        ("issuer_billing:bundle_add", {"bundle-price": "5"}, "bundle_form", "bundle-quantity"),
        ("issuer_billing:bundle_add", {"bundle-quantity": "3"}, "bundle_form", "bundle-price"),
        ("issuer_billing:grant", {"email": "zoe@example.org"}, "form", "shares"),
    ],
)
def test_a_number_past_any_column_is_refused_next_to_its_field(
    admin_client, university, zoe, url_name, data, form, field, number
):
    credits_before = CreditEntry.objects.count()

    response = admin_client.post(reverse(url_name, args=[university.slug]), {**data, field: number})

    assert response.status_code == 400
    assert response.context[form].errors[field.removeprefix("bundle-")]
    assert not ShareBundle.objects.exists()
    assert CreditEntry.objects.count() == credits_before
    assert FeePolicy.objects.get(issuer=university).free_shares == 0


@pytest.mark.parametrize("url_name", ["issuer_billing:bundle_active", "issuer_billing:refund"])
def test_an_id_past_any_column_in_a_billing_path_is_a_404(admin_client, university, url_name):
    url = reverse(url_name, args=[university.slug, 1]).replace("/1/", f"/{HUGE}/")

    assert admin_client.post(url, {"is_active": "0"}).status_code == 404


def test_a_bundle_id_past_any_column_is_refused_when_buying(client, zoe, university):
    client.raise_request_exception = False
    ShareBundle.objects.create(issuer=university, quantity=3, price_cents=2000)
    client.force_login(zoe)

    response = client.post(reverse("billing:buy_shares", args=[university.slug]), {"bundle": HUGE})

    assert response.status_code == 400
    assert "no longer offered" in response.content.decode()
    assert client.get(f"/billing/documents/{HUGE}/pay/").status_code == 404
