"""Fixtures shared by every app's tests: a small network with named people in clear roles.

- zoe: a learner with one transcript from `university` (which charges one credit a share)
  and one credit there.
- bob: another learner, with his own transcript.
- ecole: the participating organization École Imaginaire, with a required and an optional
  extra field; camille is its staff member.
- acme: another participating organization; dave is its staff member.
"""

import os

import pytest
from django.db import connections

from credshare.core import testing
from credshare.notifications.testing import smtp_server  # noqa: F401 -- a fixture for all tests


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_connections():
    # The live server and the concurrency tests open connections in threads that end; with
    # persistent connections those would outlive their thread and hold the test database.
    from django.db import connections

    for alias in connections.settings:
        connections.settings[alias]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True, scope="session")
def _signing_keys_in_tmp(tmp_path_factory):
    # Every issued document is signed: one key store (demo CA, issuer keys) per test process
    # (each xdist worker has its own base temp), created once and kept for the session.
    from django.conf import settings

    from credshare.documents import signing

    settings.CREDSHARE_KEY_DIR = tmp_path_factory.mktemp("keys")
    signing.clear_caches()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    # allauth remembers used TOTP codes and rate-limit hits in the cache by user id and IP;
    # ids repeat between tests, so each test starts with an empty cache.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 costs about 0.2 s a user by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Tests read English unless they switch; the product's default stays French.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def admin_user(admin_user):
    # pytest-django's superuser (behind its admin_client): every account with power needs a
    # session with its second factor (credshare.accounts.middleware), so it has an
    # authenticator app, as the staff builders' accounts do.
    testing.enrol_totp(admin_user)
    return admin_user


@pytest.fixture
def university(db):
    return testing.make_organization("example-university", issuer=True, sharing_is_free=False)


@pytest.fixture
def free_college(db):
    return testing.make_organization("free-college", issuer=True, sharing_is_free=True)


@pytest.fixture
def ecole(db):
    ecole = testing.make_organization(
        "ecole-imaginaire",
        receiver=True,
        description="École Imaginaire est une école de test à des fins de démonstration.",
    )
    testing.make_share_field(ecole, "application_number", required=True, position=1)
    testing.make_share_field(
        ecole,
        "intended_program",
        field_type="choice",
        choices=[{"value": "science", "label_en": "Sciences", "label_fr": "Sciences"}],
        position=2,
    )
    return ecole


@pytest.fixture
def acme(db):
    return testing.make_organization("acme", receiver=True)


@pytest.fixture
def unlisted(db):
    return testing.make_organization("unlisted-registry", receiver=True, listed=False)


@pytest.fixture
def zoe(db, university):
    zoe = testing.make_user("zoe@example.org", "Zoé Citoyenne")
    testing.give_credits(zoe, university, 1)
    return zoe


@pytest.fixture
def zoe_transcript(zoe, university):
    return testing.make_document(zoe, university, "Official transcript")


@pytest.fixture
def bob(db):
    return testing.make_user("bob@example.org", "Bob Other")


@pytest.fixture
def bob_transcript(bob, university):
    return testing.make_document(bob, university, "Bob's transcript")


@pytest.fixture
def camille(db, ecole):
    camille = testing.make_user("camille@ecole.example", "Camille Tremblay")
    testing.make_member(camille, ecole)
    return camille


@pytest.fixture
def dave(db, acme):
    dave = testing.make_user("dave@acme.example", "Dave Acme")
    testing.make_member(dave, acme)
    return dave


@pytest.fixture
def chromium():
    """Debian's Chromium, headless, driven by Playwright. Skips (fails under CI) without it."""
    chromium_path = testing.require_program("chromium", package="chromium")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
    # make between browser steps are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        # The ORM calls made while Playwright ran got their own connection (Playwright
        # switches contexts); close it so that it does not hold the test database open.
        connections.close_all()
        browser.close()


@pytest.fixture
def new_page(chromium):
    """Make a page in a fresh browser context (its own cookies), failing fast when stuck."""

    def make(locale: str = "en-US"):
        page = chromium.new_context(locale=locale).new_page()
        page.set_default_timeout(10_000)
        return page

    return make
