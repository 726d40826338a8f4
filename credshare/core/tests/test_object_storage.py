"""Documents in S3-compatible object storage (CREDSHARE_STORAGE=s3), against moto's S3 server
on loopback: what is stored is private and encrypted, the learner gets back the very bytes
issued, and signed URLs carry their expiry.

moto's server checks that a request is authenticated (an anonymous GET of a private object is
refused) but neither verifies signatures nor enforces a presigned URL's expiry: the tests
assert the URL's expiry parameters instead of waiting for one to lapse.
"""

import hashlib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from credshare import settings as credshare_settings
from credshare.core import testing
from credshare.core.storage import signed_download_url
from credshare.documents.selectors import current_version

moto_server = pytest.importorskip(
    "moto.server", reason="moto is not installed: `make install` installs the dev dependencies"
)
boto3 = pytest.importorskip("boto3", reason="boto3 is not installed: `make install` installs it")

BUCKET = "credshare-test-documents"
# moto accepts any key pair; these never reach a real AWS account.
FAKE_KEY_ID = "testing"
FAKE_SECRET = "testing"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free loopback port, with the test bucket, for the session."""
    with pytest.MonkeyPatch.context() as patch:
        # Whatever boto3 would otherwise find (variables, ~/.aws) must not be used.
        patch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
        patch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
        server.stop()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
    )


@pytest.fixture
def s3_storage(settings, s3_endpoint, monkeypatch):
    """The default storage switched to S3 the way CREDSHARE_STORAGE=s3 does it."""
    for name, value in {
        "CREDSHARE_S3_BUCKET": BUCKET,
        "CREDSHARE_S3_ENDPOINT_URL": s3_endpoint,
        "CREDSHARE_S3_REGION": REGION,
        "CREDSHARE_S3_ACCESS_KEY_ID": FAKE_KEY_ID,
        "CREDSHARE_S3_SECRET_ACCESS_KEY": FAKE_SECRET,
        # One prefix a test: no test sees another's objects.
        "CREDSHARE_S3_LOCATION": f"test-{uuid.uuid4().hex}",
    }.items():
        monkeypatch.setenv(name, value)
    options = credshare_settings.s3_storage_options()
    # Setting STORAGES resets Django's storages and default_storage (setting_changed), which
    # FileFields without a storage of their own use.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    return options


def stored_key(options: dict, version) -> str:
    return f"{options['location']}/{version.file.name}"


def test_an_issued_document_is_stored_encrypted_and_downloads_byte_identical(
    client, zoe, university, s3_storage, s3_endpoint
):
    document = testing.make_document(zoe, university, "Diploma of science")
    version = current_version(document)
    stored = s3_client(s3_endpoint).get_object(Bucket=BUCKET, Key=stored_key(s3_storage, version))

    assert stored["ServerSideEncryption"] == "AES256"
    stored_bytes = stored["Body"].read()
    assert hashlib.sha256(stored_bytes).hexdigest() == version.sha256

    client.force_login(zoe)
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == stored_bytes


def test_kms_encryption_is_asked_for_with_its_key(s3_storage, monkeypatch):
    monkeypatch.setenv("CREDSHARE_S3_SSE", "aws:kms")
    monkeypatch.setenv("CREDSHARE_S3_KMS_KEY_ID", "alias/credshare-documents")

    options = credshare_settings.s3_storage_options()

    assert options["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/credshare-documents",
    }


def test_stored_documents_are_not_publicly_readable(zoe, university, s3_storage, s3_endpoint):
    version = current_version(testing.make_document(zoe, university))
    key = stored_key(s3_storage, version)

    acl = s3_client(s3_endpoint).get_object_acl(Bucket=BUCKET, Key=key)
    assert not [
        grant
        for grant in acl["Grants"]
        if grant["Grantee"].get("URI", "").endswith(("/AllUsers", "/AuthenticatedUsers"))
    ]
    anonymous = client_for_url(f"{s3_endpoint}/{BUCKET}/{key}")
    assert anonymous.status_code == 403


def test_a_signed_url_reads_the_document_and_says_when_it_expires(
    zoe, university, s3_storage, s3_endpoint
):
    version = current_version(testing.make_document(zoe, university))

    url = signed_download_url(version.file, seconds=30)

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["30"]
    assert query["X-Amz-Signature"][0]
    signed = client_for_url(url)
    assert signed.status_code == 200
    assert hashlib.sha256(signed.content).hexdigest() == version.sha256


def test_the_storage_default_expiry_comes_from_the_setting(s3_storage, monkeypatch):
    monkeypatch.setenv("CREDSHARE_S3_URL_SECONDS", "45")

    assert credshare_settings.s3_storage_options()["querystring_expire"] == 45


def test_files_on_the_filesystem_get_no_signed_url(zoe, university):
    version = current_version(testing.make_document(zoe, university))

    assert signed_download_url(version.file, seconds=30) is None


def test_s3_storage_needs_a_bucket(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("CREDSHARE_S3_BUCKET", raising=False)

    with pytest.raises(ImproperlyConfigured):
        credshare_settings.s3_storage_options()


class HttpResult:
    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content


def client_for_url(url: str) -> HttpResult:
    """A plain GET with no credentials, as a browser given the URL would make."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 -- loopback
            return HttpResult(response.status, response.read())
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, error.read())
