import re

import pytest
from django.core.cache import cache

from credshare.notifications.models import OutgoingEmail


@pytest.fixture(autouse=True)
def _account_emails_in_memory(settings):
    # allauth counts its rate limits (one confirmation email per address every 3 minutes)
    # in the cache: each test starts with none.
    cache.clear()
    # The outbox delivers right after commit (inline) through Django's test backend.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CREDSHARE_BASE_URL = "https://credshare.example"


def last_email_to(address: str) -> OutgoingEmail:
    return OutgoingEmail.objects.filter(to=address).latest("pk")


def link_in(email: OutgoingEmail) -> str:
    [link] = re.findall(r"https://credshare\.example/\S+", email.text_body)
    return link.removeprefix("https://credshare.example")
