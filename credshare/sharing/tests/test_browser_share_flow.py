"""The seed's share flow in a real browser: Zoé shares her transcript with École Imaginaire,
then École Imaginaire's staff opens it in the inbox. Once in French, once in English.

Needs Debian's Chromium (/usr/bin/chromium); without it the tests skip, and fail under CI."""

import re

import pytest
from django.core.management import call_command

from credshare.accounts.models import User
from credshare.core import testing
from credshare.sharing.models import Share

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZOE = "zoe@example.org"
ECOLE_STAFF = "admissions@ecole-imaginaire.example"
PASSWORD = "credshare-demo-2026"  # the demo's password (seed_demo)


@pytest.fixture
def demo(live_server):
    call_command("compiletranslations", verbosity=0)
    call_command("seed_demo", verbosity=0)
    return live_server.url


def sign_in(
    page, base_url: str, email: str, *, email_label: str, password_label: str, button, code=None
):
    page.goto(f"{base_url}/login/")
    page.get_by_label(email_label).fill(email)
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    if code is not None:
        # Staff accounts have MFA: the second step asks for the authenticator's code.
        page.get_by_label("Code").fill(code())
        page.get_by_label("Code").press("Enter")


def walk_share_flow(page, base_url: str, words: dict[str, str]) -> None:
    """Seed steps 1 to 11, driven by the labels a learner reads."""
    page.get_by_role("heading", name=words["documents"]).wait_for()
    page.get_by_role("link", name=re.compile("Relevé de notes officiel")).click()
    page.get_by_role("link", name=words["share"], exact=True).click()

    page.get_by_role("heading", name=words["window"]).wait_for()
    assert words["credits"] in page.content()
    page.get_by_label(words["channel"]).check()
    page.get_by_role("button", name=words["continue"]).click()

    page.get_by_label(words["name"]).fill("Partage001")
    page.get_by_label(words["purpose"]).fill("Demande d'admission")
    page.get_by_role("searchbox").fill("Imaginaire")
    page.get_by_role("radio", name=re.compile("École Imaginaire")).check()
    # The organization's own fields arrive once it is chosen.
    page.get_by_label(words["application_number"]).fill("2026-0042")
    page.get_by_label(words["reference"], exact=True).fill("Réf1234")
    page.get_by_label(words["confirm"]).check()
    page.get_by_role("button", name=words["share"], exact=True).click()

    page.get_by_role("heading", name=words["done"]).wait_for()
    page.get_by_role("link", name=words["finish"]).click()
    page.get_by_role("heading", name=words["documents"]).wait_for()


def check_inbox(page, base_url: str, words: dict[str, str]) -> None:
    page.goto(f"{base_url}/inbox/")
    row = page.get_by_role("row", name=re.compile("Réf1234"))
    assert "Zoé Citoyenne" in row.inner_text()
    row.get_by_role("link", name="Zoé Citoyenne").click()
    assert "2026-0042" in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name=words["download"]).click()
    assert download.value.suggested_filename.endswith(".pdf")


FRENCH = {
    "documents": "Documents",
    "share": "Partager",
    "window": "Partage de documents",
    "credits": "Vous disposez actuellement de 1 partage. Le partage de ce document utilisera un "
    "partage.",
    "channel": "Avec un organisme participant",
    "continue": "Continuer",
    "name": "Nom du partage",
    "purpose": "But du partage",
    "application_number": "Numéro de demande",
    "reference": "Référence",
    "confirm": "Je confirme l'utilisation d'un partage. Nombre de partages restants : 1",
    "done": "Votre partage est effectué",
    "finish": "Terminer",
    "download": "Télécharger",
}

ENGLISH = {
    "documents": "Documents",
    "share": "Share",
    "window": "Document sharing",
    "credits": "You currently have 1 share. Sharing this document will use one share.",
    "channel": "With a participating organization",
    "continue": "Continue",
    "name": "Share name",
    "purpose": "Share purpose",
    "application_number": "Application number",
    "reference": "Reference",
    "confirm": "I confirm the use of a share. Shares remaining: 1",
    "done": "Your share is done",
    "finish": "Finish",
    "download": "Download",
}


def test_zoe_shares_her_transcript_in_french_and_ecole_opens_it(new_page, demo):
    learner = new_page()
    # Zoé's account is in French: signing in switches the interface to it.
    sign_in(
        learner,
        demo,
        ZOE,
        email_label="Email address",
        password_label="Password",
        button="Sign in",
    )
    walk_share_flow(learner, demo, FRENCH)
    share = Share.objects.get()
    assert share.reference == "Réf1234"
    assert share.field_values == {"application_number": "2026-0042"}

    staff = new_page()
    testing.enrol_totp(User.objects.get(email=ECOLE_STAFF))
    sign_in(
        staff,
        demo,
        ECOLE_STAFF,
        email_label="Email address",
        password_label="Password",
        button="Sign in",
        code=testing.fresh_totp_code,
    )
    check_inbox(staff, demo, FRENCH)
    assert share.accesses.filter(action="downloaded").count() == 1


def test_the_same_flow_works_in_english(new_page, demo):
    page = new_page()
    sign_in(
        page, demo, ZOE, email_label="Email address", password_label="Password", button="Sign in"
    )
    page.get_by_role("button", name="English").click()
    walk_share_flow(page, demo, ENGLISH)
    assert Share.objects.get().reference == "Réf1234"


def tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching SELECTOR has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def follow_with_enter(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_the_share_window_works_with_the_keyboard_alone(new_page, demo):
    page = new_page()
    sign_in(
        page, demo, ZOE, email_label="Email address", password_label="Password", button="Sign in"
    )
    page.get_by_role("button", name="English").click()

    tab_to(page, "a[href^='/documents/'][href$='/']:not([href='/documents/'])")
    follow_with_enter(page)
    tab_to(page, "a[href^='/shares/new/']")
    follow_with_enter(page)
    tab_to(page, "button[type=submit].primary")
    follow_with_enter(page)

    tab_to(page, "#id_name")
    page.keyboard.type("Keyboard share")
    tab_to(page, "#recipient-search")
    page.keyboard.type("Imaginaire")
    page.keyboard.press("Enter")  # picks the first organization that matches
    tab_to(page, "#id_field_application_number")
    page.keyboard.type("2026-0099")
    tab_to(page, "#id_reference")
    page.keyboard.type("Réf1234")
    tab_to(page, "#id_confirm_credit_use")
    page.keyboard.press("Space")
    tab_to(page, "#share-submit")
    follow_with_enter(page)

    page.get_by_role("heading", name="Your share is done").wait_for()
    share = Share.objects.get()
    assert share.recipient_organization.slug == "ecole-imaginaire"
    assert share.field_values == {"application_number": "2026-0099"}
