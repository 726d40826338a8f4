"""Fixtures and helpers of the organization self-service tests.

- ecole_admin: an administrator of École Imaginaire (a receiving organization); camille (the
  root conftest) is its staff member.
- acme_admin: an administrator of another receiving organization, Acme.
- uni_admin: an administrator of Example University, which issues documents.
"""

import html
import re

import pytest
from django.test import Client

from credshare.core import testing


@pytest.fixture
def ecole_admin(ecole):
    return testing.make_issuer_staff(ecole, "admin@ecole.example", role="admin")


@pytest.fixture
def acme_admin(acme):
    return testing.make_issuer_staff(acme, "admin@acme.example", role="admin")


@pytest.fixture
def uni_admin(university):
    return testing.make_issuer_staff(university, "admin@university.example", role="admin")


@pytest.fixture
def admin_client(client, ecole_admin):
    client.force_login(ecole_admin)
    return client


@pytest.fixture
def learner_client(zoe):
    """Zoé's own browser, beside the administrator's."""
    client = Client()
    client.force_login(zoe)
    return client


@pytest.fixture
def staff_client(camille):
    """Camille's browser (École Imaginaire's staff member), beside the administrator's."""
    client = Client()
    client.force_login(camille)
    return client


@pytest.fixture(autouse=True)
def _no_webhook_sending(settings):
    # Redelivering queues a delivery; nothing is sent in these tests.
    settings.CREDSHARE_TASKS = "none"


def text_of(response) -> str:
    """The page's visible text, tags dropped, entities decoded, whitespace collapsed."""
    content = response.content.decode()
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def errors_next_to(response, name: str) -> str:
    """The text of the error list rendered next to the form field NAME ("" when none)."""
    match = re.search(
        rf'<ul class="errors" id="id_{re.escape(name)}_errors">(.*?)</ul>',
        response.content.decode(),
        flags=re.S,
    )
    if match is None:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())
