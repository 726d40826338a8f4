"""Webhooks never reach a private network, whatever the address looks like: table-driven over
the ranges that are not the public Internet (private, loopback, link-local and cloud metadata,
shared, reserved, documentation, multicast, unspecified), over IPv6 addresses that translate
or tunnel to such an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4, Teredo), and
over the spellings of an IPv4 host a resolver accepts (2130706433, 0x7f.1, 0177.0.0.1, 127.1).
Refused when an endpoint is registered when the URL names an address, and at each delivery
for a name, which is resolved once and connected to at the address that was checked (DNS
rebinding between the check and the connection changes nothing)."""

import ipaddress
import socket

import pytest

from credshare.core.errors import ApplicationError
from credshare.webhooks import services
from credshare.webhooks.models import Event, WebhookDelivery, WebhookEndpoint

REFUSED = {
    # IPv4
    "10.0.0.8": "private",
    "172.16.5.4": "private",
    "192.168.1.10": "private",
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "169.254.169.254": "link-local (cloud metadata)",
    "100.64.0.1": "shared address space (carrier-grade NAT)",
    "0.0.0.0": "unspecified",  # noqa: S104 -- a value under test, not a bind address
    "0.1.2.3": "this network",
    "192.0.0.1": "IETF protocol assignments",
    "192.0.2.1": "documentation",
    "198.51.100.1": "documentation",
    "203.0.113.1": "documentation",
    "198.18.0.1": "benchmarking",
    "192.88.99.1": "6to4 relay anycast (deprecated)",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast (SSDP)",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    # IPv6
    "::1": "loopback",
    "::": "unspecified",
    "fd00::1": "unique local",
    "fd00:ec2::254": "unique local (cloud metadata)",
    "fe80::1": "link-local",
    "fec0::1": "site-local (deprecated)",
    "ff02::1": "multicast",
    "ff0e::1": "multicast, global scope",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation (RFC 9637)",
    "100::1": "discard-only",
    "5f00::1": "SRv6 segment identifiers",
    "::ffff:10.0.0.8": "IPv4-mapped private",
    "::ffff:169.254.169.254": "IPv4-mapped metadata",
    "::10.0.0.8": "IPv4-compatible (deprecated)",
    "::8.8.8.8": "IPv4-compatible (deprecated), even of a public address",
    "::ffff:0:10.0.0.8": "IPv4-translated",
    "64:ff9b::10.0.0.8": "NAT64 to a private address",
    "64:ff9b::127.0.0.1": "NAT64 to loopback",
    "64:ff9b::169.254.169.254": "NAT64 to the metadata service",
    "64:ff9b:1::a00:8": "NAT64 local-use prefix",
    "64:ff9b:1:ffff::8.8.8.8": "NAT64 local-use prefix, whatever it embeds",
    "2002:7f00:1::1": "6to4 of loopback",
    "2002:a00:8::1": "6to4 of a private address",
    "2002:a9fe:a9fe::1": "6to4 of the metadata service",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "2001:0:a00:8::f5ff:fff7": "Teredo of a private server",
}
# Loopback addresses are the one kind CREDSHARE_WEBHOOK_ALLOW_LOOPBACK lets through.
LOOPBACK = {"127.0.0.1", "127.8.9.10", "::1"}

ACCEPTED = [
    "8.8.8.8",
    "93.184.216.34",
    "2606:4700::1111",
    "2a00:1450:4007:80f::200e",
    "64:ff9b::8.8.8.8",  # NAT64 of a public address (an IPv6-only network's DNS64)
    "2002:808:808::1",  # 6to4 of a public address
]

# Host spellings a resolver turns into an IPv4 address, and the one they mean.
NUMERIC_HOSTS = {
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0x7f.1": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "0xa9fea9fe": "169.254.169.254",
    "169.254.43518": "169.254.169.254",
    "012.0.0.8": "10.0.0.8",
    "167772168": "10.0.0.8",
    "0": "0.0.0.0",  # noqa: S104 -- a value under test
}


def bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", REFUSED, ids=[f"{a} {w}" for a, w in REFUSED.items()])
@pytest.mark.parametrize("loopback_allowed", [False, True])
def test_an_address_that_is_not_public_is_refused(address, loopback_allowed, settings):
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = loopback_allowed
    expected = loopback_allowed and address in LOOPBACK
    assert services.address_allowed(ipaddress.ip_address(address)) is expected


@pytest.mark.parametrize("address", ACCEPTED)
def test_a_public_address_is_allowed(address, settings):
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = False
    assert services.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("host, meant", NUMERIC_HOSTS.items())
def test_every_spelling_of_an_ipv4_host_is_read_as_its_address(host, meant):
    assert services.host_address(host) == ipaddress.ip_address(meant)
    # The resolver the delivery uses reads it the same way.
    assert socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)[0][4][0] == meant


@pytest.mark.parametrize("host", ["hooks.ecole.example", "cafe.be", "0x.example", "1.2.3.4.5"])
def test_names_are_left_to_the_resolver(host):
    assert services.host_address(host) is None


@pytest.fixture
def create(ecole, ecole_admin):
    def create(url):
        return services.endpoint_create(
            organization=ecole, url=url, events=[Event.SHARE_RECEIVED], by=ecole_admin
        )

    return create


@pytest.mark.django_db
@pytest.mark.parametrize("address", REFUSED, ids=[f"{a} {w}" for a, w in REFUSED.items()])
def test_registering_an_endpoint_on_such_an_address_is_refused(create, address, settings):
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ApplicationError) as refused:
        create(f"https://{bracketed(address)}/hooks")
    assert (refused.value.code, refused.value.field) == ("webhook_url_private", "url")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("host", NUMERIC_HOSTS)
def test_registering_an_endpoint_on_a_numeric_spelling_is_refused(create, host, settings):
    # Django's URL validator refuses them as malformed; were it to let one through, the
    # address it spells is checked (test_every_spelling_of_an_ipv4_host_is_read_as_its_address).
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ApplicationError) as refused:
        create(f"https://{host}/hooks")
    assert refused.value.code in {"webhook_url_invalid", "webhook_url_private"}
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("address", ACCEPTED)
def test_registering_an_endpoint_on_a_public_address_is_accepted(create, address):
    assert create(f"https://{bracketed(address)}/hooks").pk


class Resolver:
    """getaddrinfo for the endpoint's name answering ANSWERS, one a call (DNS rebinding:
    a public address first, a private one after); other names as the system resolves them."""

    def __init__(self, host: str, *answers: str):
        self.host, self.answers, self.calls = host, list(answers), 0
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host != self.host:
            return self.real(host, port, *args, **kwargs)
        address = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


class RecordingSocket:
    """A socket that records where it is asked to connect, and is refused there."""

    connected: list = []

    def __init__(self, *args, **kwargs):
        pass

    def settimeout(self, timeout):
        pass

    def connect(self, sockaddr):
        RecordingSocket.connected.append(sockaddr[:2])
        raise ConnectionRefusedError("refused by the test")

    def close(self):
        pass


@pytest.fixture
def endpoint_on_a_name(ecole, ecole_admin, settings):
    settings.CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = False
    settings.CREDSHARE_TASKS = "none"
    services.endpoint_create(
        organization=ecole,
        url="https://hooks.rebinding.example/hooks",
        events=[Event.SHARE_RECEIVED],
        by=ecole_admin,
    )
    [delivery] = services.event_publish(
        organization=ecole, event_type=Event.SHARE_RECEIVED, data={}
    )
    RecordingSocket.connected = []
    return delivery


@pytest.mark.django_db
@pytest.mark.parametrize("address", REFUSED, ids=[f"{a} {w}" for a, w in REFUSED.items()])
def test_a_name_resolving_to_such_an_address_is_refused_at_delivery(
    endpoint_on_a_name, address, monkeypatch
):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver("hooks.rebinding.example", address))
    monkeypatch.setattr(socket, "socket", RecordingSocket)

    result = services.delivery_attempt(delivery_id=endpoint_on_a_name.pk)

    assert RecordingSocket.connected == []
    assert result.status == WebhookDelivery.Status.PENDING
    assert "not a public address" in result.last_error


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(endpoint_on_a_name, monkeypatch):
    # The name answers a public address, then loopback to anyone who asks again: the
    # delivery asks once and connects to what it checked.
    resolver = Resolver("hooks.rebinding.example", "93.184.216.34", "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(socket, "socket", RecordingSocket)

    result = services.delivery_attempt(delivery_id=endpoint_on_a_name.pk)

    assert resolver.calls == 1
    assert RecordingSocket.connected == [("93.184.216.34", 443)]
    assert "ConnectionRefused" in result.last_error
