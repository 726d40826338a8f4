"""The issuer staff's fee policy and bundles page, and who may use the issuer pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from credshare.billing.issuer_forms import FeePolicyForm
from credshare.billing.models import FeePolicy, ShareBundle
from credshare.core import testing


@pytest.fixture
def uni_admin(university):
    return testing.make_issuer_staff(university, "admin@university.example", role="admin")


@pytest.fixture
def uni_staff(university):
    return testing.make_issuer_staff(university, "staff@university.example")


@pytest.fixture
def other_issuer_admin(db):
    other = testing.make_organization("other-university", issuer=True)
    return testing.make_issuer_staff(other, "admin@other.example", role="admin")


def settings_url(university):
    return reverse("issuer_billing:settings", args=[university.slug])


POLICY = {
    "sharing": "paid",
    "free_shares": "2",
    "collection_fee": "15.50",
    "currency": "USD",
    "tax_rate": "14.97",
}


def page_urls(university):
    slug = university.slug
    return [
        reverse("issuer_billing:settings", args=[slug]),
        reverse("issuer_billing:payments", args=[slug]),
        reverse("issuer_billing:grant", args=[slug]),
    ]


# Who may do what --------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, university):
    for url in page_urls(university):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["zoe", "camille", "other_issuer_admin"])
def test_anyone_but_its_members_gets_404(client, request, university, who):
    client.force_login(request.getfixturevalue(who))
    for url in page_urls(university):
        assert client.get(url).status_code == 404
    assert client.post(settings_url(university), POLICY).status_code == 404
    assert not FeePolicy.objects.filter(issuer=university, currency="USD").exists()


def test_a_receiving_organization_has_no_issuer_pages(client, camille, ecole):
    client.force_login(camille)
    assert client.get(reverse("issuer_billing:settings", args=[ecole.slug])).status_code == 404


def test_staff_see_but_cannot_change_403(client, university, uni_staff):
    """Staff (not administrators) view the settings and payments; changing, granting and
    refunding answer 403 Forbidden."""
    client.force_login(uni_staff)
    response = client.get(settings_url(university))
    assert response.status_code == 200
    assert b"Save the fee policy" not in response.content
    assert b"Add the bundle" not in response.content
    assert client.get(reverse("issuer_billing:payments", args=[university.slug])).status_code == 200
    assert client.post(settings_url(university), POLICY).status_code == 403
    bundle_add = reverse("issuer_billing:bundle_add", args=[university.slug])
    assert client.post(bundle_add, {"bundle-quantity": 3, "bundle-price": "5"}).status_code == 403
    assert client.get(reverse("issuer_billing:grant", args=[university.slug])).status_code == 403
    assert FeePolicy.objects.get(issuer=university).currency == "CAD"
    assert not ShareBundle.objects.exists()


def test_nav_links_to_the_institution_for_its_members_only(client, university, uni_staff, zoe):
    client.force_login(uni_staff)
    page = client.get(reverse("documents:list")).content.decode()
    assert settings_url(university) in page
    assert ">Institution<" in page
    client.force_login(zoe)
    page = client.get(reverse("documents:list")).content.decode()
    assert settings_url(university) not in page


# The fee policy ---------------------------------------------------------------------------


def test_admin_saves_the_policy_in_cents_and_basis_points(client, university, uni_admin):
    client.force_login(uni_admin)
    response = client.post(settings_url(university), POLICY)
    assert response.status_code == 302
    policy = FeePolicy.objects.get(issuer=university)
    assert not policy.sharing_is_free
    assert policy.free_shares == 2
    assert policy.collection_fee_cents == 1550
    assert policy.currency == "USD"
    assert policy.tax_rate_basis_points == 1497
    page = client.get(settings_url(university)).content.decode()
    assert 'value="15.50"' in page
    assert 'value="14.97"' in page
    assert "The fee policy is saved." in page


def test_an_issuer_without_a_policy_gets_one(client, db):
    issuer = testing.make_organization("new-issuer", issuer=True)
    admin = testing.make_issuer_staff(issuer, "a@new.example", role="admin")
    client.force_login(admin)
    url = reverse("issuer_billing:settings", args=[issuer.slug])
    assert 'value="CAD" selected' in client.get(url).content.decode()
    assert client.post(url, {**POLICY, "sharing": "free"}).status_code == 302
    policy = FeePolicy.objects.get(issuer=issuer)
    assert policy.sharing_is_free
    assert policy.free_shares == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("collection_fee", "-1", "greater than or equal to 0"),
        ("collection_fee", "1.234", "no more than 2 decimal places"),
        ("collection_fee", "10000.01", "less than or equal to 10000"),
        ("collection_fee", "abc", "Enter a number."),
        ("tax_rate", "13.125", "no more than 2 decimal places"),
        ("tax_rate", "-5", "greater than or equal to 0"),
        ("tax_rate", "51", "less than or equal to 50"),
        ("currency", "GBP", "Select a valid choice"),
        ("free_shares", "-1", "greater than or equal to 0"),
        ("sharing", "", "This field is required."),
    ],
)
def test_bad_policy_input_is_refused_next_to_its_field(
    client, university, uni_admin, field, value, message
):
    client.force_login(uni_admin)
    response = client.post(settings_url(university), {**POLICY, field: value})
    assert response.status_code == 400
    errors = response.context["policy_form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert f'id="id_{field}_errors"' in response.content.decode()
    policy = FeePolicy.objects.get(issuer=university)
    assert (policy.currency, policy.collection_fee_cents, policy.tax_rate_basis_points) == (
        "CAD",
        0,
        0,
    )


# Bundles ----------------------------------------------------------------------------------


def bundle_add(client, university, quantity, price):
    url = reverse("issuer_billing:bundle_add", args=[university.slug])
    return client.post(url, {"bundle-quantity": quantity, "bundle-price": price})


def test_admin_adds_bundles(client, university, uni_admin):
    client.force_login(uni_admin)
    assert bundle_add(client, university, 3, "25").status_code == 302
    assert bundle_add(client, university, 1, "9.99").status_code == 302
    bundles = list(
        ShareBundle.objects.filter(issuer=university).values_list("quantity", "price_cents")
    )
    assert bundles == [(1, 999), (3, 2500)]
    page = client.get(settings_url(university)).content.decode()
    assert "25.00\N{NO-BREAK SPACE}CAD" in page


def test_a_duplicate_quantity_is_refused_clearly(client, university, uni_admin):
    client.force_login(uni_admin)
    bundle_add(client, university, 3, "25")
    response = bundle_add(client, university, 3, "20")
    assert response.status_code == 400
    assert response.context["bundle_form"].errors == {
        "quantity": ["You already have a bundle of this many shares."]
    }
    assert 'id="id_bundle-quantity_errors"' in response.content.decode()
    assert ShareBundle.objects.get(issuer=university).price_cents == 2500


def test_another_issuer_may_have_the_same_quantity(client, university, uni_admin):
    other = testing.make_organization("other-university", issuer=True)
    ShareBundle.objects.create(issuer=other, quantity=3, price_cents=100)
    client.force_login(uni_admin)
    assert bundle_add(client, university, 3, "25").status_code == 302


@pytest.mark.parametrize(
    ("quantity", "price", "field"),
    [("0", "5", "quantity"), ("3", "0", "price"), ("3", "-2", "price"), ("3", "1.001", "price")],
)
def test_bad_bundles_are_refused(client, university, uni_admin, quantity, price, field):
    client.force_login(uni_admin)
    response = bundle_add(client, university, quantity, price)
    assert response.status_code == 400
    assert list(response.context["bundle_form"].errors) == [field]
    assert not ShareBundle.objects.exists()


def test_admin_deactivates_and_reactivates_a_bundle(client, university, uni_admin):
    bundle = ShareBundle.objects.create(issuer=university, quantity=3, price_cents=2500)
    client.force_login(uni_admin)
    url = reverse("issuer_billing:bundle_active", args=[university.slug, bundle.pk])
    assert client.post(url, {"is_active": "0"}).status_code == 302
    bundle.refresh_from_db()
    assert not bundle.is_active
    assert "Offer again" in client.get(settings_url(university)).content.decode()
    client.post(url, {"is_active": "1"})
    bundle.refresh_from_db()
    assert bundle.is_active


def test_another_issuers_bundle_is_404(client, university, uni_admin):
    other = testing.make_organization("other-university", issuer=True)
    bundle = ShareBundle.objects.create(issuer=other, quantity=3, price_cents=100)
    client.force_login(uni_admin)
    url = reverse("issuer_billing:bundle_active", args=[university.slug, bundle.pk])
    assert client.post(url, {"is_active": "0"}).status_code == 404
    bundle.refresh_from_db()
    assert bundle.is_active


def test_amounts_typed_with_a_french_decimal_comma_are_understood():
    form = FeePolicyForm(
        data={
            "sharing": "paid",
            "free_shares": "0",
            "collection_fee": "15,50",
            "currency": "CAD",
            "tax_rate": "5,5",
        }
    )

    assert form.is_valid(), form.errors
    assert (form.cleaned_data["collection_fee"], form.cleaned_data["tax_rate"]) == (
        Decimal("15.50"),
        Decimal("5.5"),
    )
