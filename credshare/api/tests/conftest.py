"""Fixtures of the REST API tests: API keys of the root conftest's organizations, a client
that sends a key, and shares addressed to École Imaginaire and to Acme.

- ecole_key: all the receiving scopes of École Imaginaire (camille's school).
- acme_key: the same for Acme (dave's organization).
- university_key: all the issuing scopes of Example University (which issued zoe's
  transcript).
"""

import dataclasses
import json

import pytest
from django.test import Client

from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.core import testing

API = "/api/v1"


@dataclasses.dataclass
class Key:
    model: ApiKey
    text: str


def make_key(organization, scopes, name="Student information system") -> Key:
    model, text = api_key_create(organization=organization, name=name, scopes=scopes, by=None)
    return Key(model, text)


class ApiClient:
    """Django's test client speaking to the API with one key (or none)."""

    def __init__(self, token: str | None = None, *, language: str = "en"):
        self.client = Client()
        self.token = token
        self.language = language

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Accept-Language": self.language}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def get(self, path: str, params: dict | None = None, *, headers: dict | None = None):
        return self.client.get(API + path, params or {}, headers=self.headers(headers))

    def post(self, path: str, body=None, *, headers: dict | None = None):
        return self.client.post(
            API + path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=self.headers(headers),
        )

    def post_files(self, path: str, files: dict, *, headers: dict | None = None):
        return self.client.post(API + path, files, headers=self.headers(headers))

    def delete(self, path: str, *, headers: dict | None = None):
        return self.client.delete(API + path, headers=self.headers(headers))

    def request(self, method: str, path: str, **kwargs):
        return self.client.generic(method, API + path, headers=self.headers(), **kwargs)


@pytest.fixture(autouse=True)
def _nothing_started_in_the_background(settings):
    # Bulk jobs and webhook deliveries are not started: tests run them when they need to.
    settings.CREDSHARE_TASKS = "none"


@pytest.fixture
def ecole_key(ecole) -> Key:
    return make_key(ecole, list(ApiKey.RECEIVING_SCOPES))


@pytest.fixture
def acme_key(acme) -> Key:
    return make_key(acme, list(ApiKey.RECEIVING_SCOPES))


@pytest.fixture
def university_key(university) -> Key:
    return make_key(university, list(ApiKey.ISSUING_SCOPES))


@pytest.fixture
def ecole_api(ecole_key) -> ApiClient:
    return ApiClient(ecole_key.text)


@pytest.fixture
def acme_api(acme_key) -> ApiClient:
    return ApiClient(acme_key.text)


@pytest.fixture
def university_api(university_key) -> ApiClient:
    return ApiClient(university_key.text)


@pytest.fixture
def zoe_diploma(zoe, university):
    return testing.make_document(zoe, university, "Bachelor diploma", document_type="diploma")


@pytest.fixture
def share_to_ecole(zoe, zoe_transcript, zoe_diploma, ecole):
    return testing.share_with(
        zoe,
        [zoe_transcript, zoe_diploma],
        ecole,
        name="Private name",
        purpose="Private purpose",
        reference="Réf1234",
        field_values={"application_number": "A-77", "intended_program": "science"},
        expires_on=testing.days_from_today(365),
    )


@pytest.fixture
def share_to_acme(bob, bob_transcript, university, acme):
    testing.give_credits(bob, university, 1)
    return testing.share_with(bob, [bob_transcript], acme, reference="ACME-REF-9")


def error_of(response) -> dict:
    """The error of a response, checked to have the API's one error shape."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if "details" in error:
        assert isinstance(error["details"], list) and error["details"]
    return error
