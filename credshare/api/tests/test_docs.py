"""The OpenAPI schema at its stable address, and the docs page credshare serves itself (its
scripts and styles from our own static files: no CDN)."""

import re

from django.test import Client

from credshare.api.tests.conftest import API


def test_the_schema_is_openapi_3_at_a_stable_address():
    response = Client().get(f"{API}/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "credshare API"
    assert schema["info"]["version"] == "1"
    for heading in ("Authentication", "Errors", "Pagination", "Idempotency", "Limits"):
        assert f"## {heading}" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    assert set(schema["paths"]) == {
        "/api/v1/shares",
        "/api/v1/shares/{share_id}",
        "/api/v1/shares/{share_id}/documents/{document_id}/pdf",
        "/api/v1/shares/{share_id}/processed",
        "/api/v1/documents",
        "/api/v1/documents/{document_id}",
        "/api/v1/documents/{document_id}/versions",
        "/api/v1/documents/{document_id}/withdraw",
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/rejections",
    }


def test_every_post_takes_an_idempotency_key_and_every_operation_a_key():
    schema = Client().get(f"{API}/openapi.json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"ApiKeyAuth": []}], (method, path)
            assert "429" in operation["responses"], (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
            headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
            assert ("Idempotency-Key" in headers) == (method == "post"), (method, path)


def test_the_docs_page_uses_only_our_own_static_files():
    client = Client()
    response = client.get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
    assert "//" not in "".join(assets)
    assert "/api/v1/openapi.json" in html
