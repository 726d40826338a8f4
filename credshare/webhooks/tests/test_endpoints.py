"""Registering, changing and removing an organization's endpoints: HTTPS URLs of public hosts
only (the guard against requests to our own network), known events, a fresh secret."""

import uuid

import pytest
from django.http import Http404

from credshare.core.errors import ApplicationError
from credshare.webhooks import selectors, services
from credshare.webhooks.models import Event, WebhookEndpoint


@pytest.fixture
def create(ecole, ecole_admin):
    def create(url="https://hooks.ecole.example/credshare", events=None, **values):
        return services.endpoint_create(
            organization=ecole,
            url=url,
            events=[Event.SHARE_RECEIVED] if events is None else events,
            by=ecole_admin,
            **values,
        )

    return create


def refusal(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value


def test_an_endpoint_gets_a_secret_of_its_own_and_its_events_in_a_fixed_order(
    create, ecole, ecole_admin
):
    endpoint = create(
        events=[Event.DOCUMENT_WITHDRAWN, Event.SHARE_RECEIVED, Event.SHARE_RECEIVED],
        description="  Admissions   system ",
    )
    other = create()

    assert endpoint.organization == ecole
    assert endpoint.created_by == ecole_admin
    assert endpoint.is_active
    assert endpoint.url == "https://hooks.ecole.example/credshare"
    assert endpoint.events == ["share.received", "document.withdrawn"]
    assert endpoint.description == "Admissions system"
    assert endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) >= len("whsec_") + 43  # 32 random bytes, base64url
    assert endpoint.secret != other.secret


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.ecole.example/credshare",  # plain HTTP
        "ftp://hooks.ecole.example/credshare",
        "hooks.ecole.example/credshare",
        "https://",
        "https://user:password@hooks.ecole.example/",  # a password stored in clear
        "https://hooks.ecole.example:99999/",
        "https://hooks.ecole.example/" + "x" * 500,
    ],
)
def test_an_endpoint_must_be_an_https_url(create, url):
    error = refusal(lambda: create(url=url))

    assert error.field == "url"
    assert error.code in {"webhook_url_invalid", "webhook_url_not_https"}
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.8/hooks",
        "https://172.16.5.4/hooks",
        "https://192.168.1.10/hooks",
        "https://169.254.169.254/latest/meta-data/",  # a cloud provider's metadata service
        "https://100.64.0.1/hooks",  # shared address space
        "https://0.0.0.0/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://api.localhost/hooks",
        "https://[::1]/hooks",
        "https://[fd00::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:10.0.0.8]/hooks",
    ],
)
def test_an_endpoint_on_a_private_loopback_or_link_local_address_is_refused(create, url):
    error = refusal(lambda: create(url=url))

    assert (error.code, error.field) == ("webhook_url_private", "url")
    assert "private network" in error.message
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted(create):
    # Registering sends nothing: these are only checked.
    assert create(url="https://8.8.8.8/hooks").url == "https://8.8.8.8/hooks"
    assert create(url="https://[2606:4700::1111]:8443/hooks").url.startswith("https://[2606:")


def test_loopback_over_http_is_accepted_only_when_the_setting_allows_it(create, settings):
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = True

    assert create(url="http://127.0.0.1:8123/hooks").url == "http://127.0.0.1:8123/hooks"
    assert create(url="http://localhost:8123/hooks").url == "http://localhost:8123/hooks"
    # Still no plain HTTP to anywhere else, and no private network.
    assert refusal(lambda: create(url="http://hooks.ecole.example/")).code == (
        "webhook_url_not_https"
    )
    assert refusal(lambda: create(url="https://10.0.0.8/")).code == "webhook_url_private"


@pytest.mark.parametrize(
    ("events", "code"),
    [([], "webhook_events_empty"), (["share.received", "share.opened"], "webhook_event_unknown")],
)
def test_events_must_be_known_and_at_least_one(create, events, code):
    error = refusal(lambda: create(events=events))

    assert (error.code, error.field) == (code, "events")
    assert not WebhookEndpoint.objects.exists()


def test_update_checks_as_create_does_and_keeps_the_secret(create):
    endpoint = create()
    secret = endpoint.secret

    updated = services.endpoint_update(
        endpoint=endpoint,
        url="https://new.ecole.example/hooks",
        events=[Event.SHARE_REVOKED, Event.SHARE_EXPIRED],
        description="New system",
        is_active=False,
        by=None,
    )
    error = refusal(
        lambda: services.endpoint_update(
            endpoint=endpoint,
            url="https://192.168.0.2/",
            events=[Event.SHARE_REVOKED],
            description="",
            is_active=True,
            by=None,
        )
    )

    stored = WebhookEndpoint.objects.get(pk=updated.pk)
    assert (stored.url, stored.events, stored.description, stored.is_active) == (
        "https://new.ecole.example/hooks",
        ["share.revoked", "share.expired"],
        "New system",
        False,
    )
    assert stored.secret == secret
    assert error.code == "webhook_url_private"


def test_rotating_the_secret_replaces_it(create):
    endpoint = create()
    old = endpoint.secret

    services.endpoint_secret_rotate(endpoint=endpoint, by=None)

    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert stored.secret.startswith("whsec_")
    assert stored.secret != old


def test_delete_removes_the_endpoint_and_its_deliveries(create, ecole):
    endpoint = create()
    services.event_publish(organization=ecole, event_type=Event.SHARE_RECEIVED, data={})

    services.endpoint_delete(endpoint=endpoint, by=None)

    assert not WebhookEndpoint.objects.exists()
    from credshare.webhooks.models import WebhookDelivery

    assert not WebhookDelivery.objects.exists()


def test_an_organization_finds_its_own_endpoints_only(create, ecole, acme, ecole_admin):
    first = create()
    second = create(url="https://second.ecole.example/")
    theirs = services.endpoint_create(
        organization=acme, url="https://acme.example/", events=["share.received"], by=None
    )

    assert list(selectors.endpoints_of(organization=ecole)) == [first, second]
    assert (
        selectors.endpoint_of_organization_or_404(organization=ecole, public_id=first.public_id)
        == first
    )
    for public_id in [theirs.public_id, uuid.uuid4(), "nonsense"]:
        with pytest.raises(Http404):
            selectors.endpoint_of_organization_or_404(organization=ecole, public_id=public_id)
