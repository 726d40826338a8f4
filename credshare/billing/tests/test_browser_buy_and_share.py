"""Seed step 4 in a browser: Zoé has no share left, so "Share" is greyed out; she buys
shares through the sandbox checkout, then shares her transcript."""

import re

import pytest
from django.core.management import call_command

from credshare.accounts.models import User
from credshare.billing.models import Purchase
from credshare.core import testing
from credshare.network.models import Organization
from credshare.sharing.models import Share

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def zoe_without_credit(live_server):
    call_command("compiletranslations", verbosity=0)
    call_command("seed_demo", verbosity=0)
    zoe = User.objects.get(email="zoe@example.org")
    transcript = zoe.documents.get(issuer__slug="example-university")
    # Her one credit goes on a first share, as in the seed.
    testing.share_with(zoe, [transcript], Organization.objects.get(slug="acme-employer"))
    return live_server.url


def test_zoe_buys_shares_through_the_sandbox_then_shares(new_page, zoe_without_credit):
    base_url = zoe_without_credit
    page = new_page()
    page.goto(f"{base_url}/login/")
    page.get_by_label("Email address").fill("zoe@example.org")
    page.get_by_label("Password").fill("credshare-demo-2026")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="English").click()

    page.get_by_role("link", name=re.compile("Relevé de notes officiel")).click()
    assert page.get_by_role("button", name="Share", exact=True).is_disabled()
    page.get_by_role("link", name="More shares").click()

    page.get_by_label(re.compile("^3 shares")).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    assert Purchase.objects.get().status == Purchase.Status.PAID
    assert "3 shares" in page.content()

    page.goto(f"{base_url}/documents/")
    page.get_by_role("link", name=re.compile("Relevé de notes officiel")).click()
    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_label("With a participating organization").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("radio", name=re.compile("École Imaginaire")).check()
    page.get_by_label("Application number").fill("2026-0100")
    page.get_by_label(re.compile("^I confirm the use of a share")).check()
    page.get_by_role("button", name="Share", exact=True).click()
    page.get_by_role("heading", name="Your share is done").wait_for()

    assert Share.objects.filter(recipient_organization__slug="ecole-imaginaire").count() == 1
