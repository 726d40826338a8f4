"""The signature a receiver checks: genuine requests pass the documented recipe (and our own
check), forged, altered, replayed or malformed ones fail it."""

import time

import pytest

from credshare.webhooks.signatures import signature_header, signature_verify

from .conftest import documented_recipe

SECRET = "whsec_test-secret"
BODY = b'{"id":"e-1","type":"share.received","data":{"share":{"id":"s-1"}}}'


def documented(secret, header, body):
    return documented_recipe()(secret, header, body)


def ours(secret, header, body):
    return signature_verify(secret=secret, header=header, body=body)


CHECKS = [documented, ours]


@pytest.mark.parametrize("check", CHECKS)
def test_a_genuine_request_passes(check):
    assert check(SECRET, signature_header(secret=SECRET, body=BODY), BODY)


@pytest.mark.parametrize("check", CHECKS)
def test_a_request_signed_with_another_secret_fails(check):
    assert not check(SECRET, signature_header(secret="whsec_guessed", body=BODY), BODY)


@pytest.mark.parametrize("check", CHECKS)
def test_an_altered_body_fails(check):
    header = signature_header(secret=SECRET, body=BODY)

    assert not check(SECRET, header, BODY.replace(b"s-1", b"s-2"))


@pytest.mark.parametrize("check", CHECKS)
def test_a_replayed_request_fails_once_its_timestamp_is_old(check):
    old = int(time.time()) - 301
    header = signature_header(secret=SECRET, body=BODY, timestamp=old)

    assert not check(SECRET, header, BODY)
    assert check(SECRET, signature_header(secret=SECRET, body=BODY, timestamp=old + 2), BODY)


@pytest.mark.parametrize("check", CHECKS)
def test_a_timestamp_changed_to_a_recent_one_fails(check):
    # The timestamp is signed: moving it forward to pass the recency check breaks the HMAC.
    old = int(time.time()) - 3600
    signature = signature_header(secret=SECRET, body=BODY, timestamp=old).split(",v1=")[1]

    assert not check(SECRET, f"t={int(time.time())},v1={signature}", BODY)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize(
    "header", ["", "t=", "v1=abc", "t=123", "nonsense", "t=abc,v1=def", "t=1,v1=,v1="]
)
def test_a_malformed_header_fails(check, header):
    assert not check(SECRET, header, BODY)


@pytest.mark.parametrize("check", CHECKS)
def test_any_of_several_signatures_may_match(check):
    header = signature_header(secret=SECRET, body=BODY)
    timestamp, signature = header.split(",")

    assert check(SECRET, f"{timestamp},v1={'0' * 64},{signature}", BODY)


def test_the_signature_is_the_documented_hmac():
    import hashlib
    import hmac

    header = signature_header(secret=SECRET, body=BODY, timestamp=1767225600)

    expected = hmac.new(SECRET.encode(), b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1767225600,v1={expected}"
