"""Issuers' Ed25519 keys for credentials, and their did:web identifiers.

An issuer's DID is `did:web:<credshare host>:issuers:<slug>`; by the did:web method it resolves
to `https://<credshare host>/issuers/<slug>/did.json`, which credshare serves (`views.py`). The
private keys live in the same key store as the PDF signing keys (`documents/signing.py`), as
`issuers/<slug>-ed25519-<n>.pem`, files readable by the server only."""

import threading
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction

from credshare.credentials.models import CredentialKey
from credshare.credentials.multibase import ed25519_public_key_multibase
from credshare.documents.signing import ISSUERS_DIR, _store_lock, _write_private, key_dir

_private_keys: dict[str, Ed25519PrivateKey] = {}
_lock = threading.Lock()


def did_host() -> str:
    """The did:web host part: credshare's host, its port percent-encoded as the method says."""
    parts = urlsplit(settings.CREDSHARE_BASE_URL)
    return quote(parts.netloc, safe="")


def issuer_did(issuer) -> str:
    return f"did:web:{did_host()}:issuers:{issuer.slug}"


def issuer_slug_from_did(did: str) -> str | None:
    """The slug of one of our issuers' DIDs, or None when the DID is not one of ours."""
    prefix = f"did:web:{did_host()}:issuers:"
    if not did.startswith(prefix):
        return None
    slug = did[len(prefix) :]
    return slug if slug and ":" not in slug else None


def verification_method_id(key: CredentialKey) -> str:
    return f"{issuer_did(key.issuer)}#{key.fragment}"


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def ensure_credential_key(issuer) -> CredentialKey:
    """The issuer's active credential key, made on first use (idempotent, across processes)."""
    key = CredentialKey.objects.filter(issuer=issuer, is_active=True).first()
    if key is not None:
        return key
    directory = key_dir()
    with transaction.atomic():
        # Two processes issuing an issuer's first document at once, each inside the
        # transaction of its row: the issuer's row lock, held until that transaction ends,
        # makes the second wait until the first key is committed (then find it), rather than
        # see no key yet, take the same file name and replace the first key's file.
        type(issuer).objects.select_for_update(no_key=True).only("pk").get(pk=issuer.pk)
        key = CredentialKey.objects.filter(issuer=issuer, is_active=True).first()
        if key is not None:
            return key
        return _credential_key_create(issuer, directory)


def _credential_key_create(issuer, directory) -> CredentialKey:
    with _store_lock(directory):
        number = CredentialKey.objects.filter(issuer=issuer).count() + 1
        name = f"{ISSUERS_DIR}/{issuer.slug}-ed25519-{number}.pem"
        path = directory / name
        if path.exists():
            # A key file left by a rolled-back attempt or another database: never reuse it.
            path.rename(path.with_suffix(".orphan"))
        private_key = Ed25519PrivateKey.generate()
        _write_private(
            path,
            private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return CredentialKey.objects.create(
            issuer=issuer,
            fragment=f"key-{number}",
            public_key_multibase=ed25519_public_key_multibase(_raw_public(private_key)),
            key_name=name,
        )


def private_key_of(key: CredentialKey) -> Ed25519PrivateKey:
    """The key's private half, loaded once per process."""
    path = key_dir() / key.key_name
    # Cached by file and public key: a key made in a rolled-back transaction leaves its file
    # (renamed when the name is reused), and a new key under the same name must not be
    # mistaken for the old one.
    cache_key = f"{path} {key.public_key_multibase}"
    cached = _private_keys.get(cache_key)
    if cached is not None:
        return cached
    with _lock:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise RuntimeError(f"{key.key_name} is not an Ed25519 key")
        if ed25519_public_key_multibase(_raw_public(loaded)) != key.public_key_multibase:
            raise RuntimeError(f"{key.key_name} does not hold the key published for {key}")
        _private_keys[cache_key] = loaded
    return loaded


def did_document(issuer, keys: list[CredentialKey]) -> dict:
    """The issuer's DID document: every key it has signed with, active ones for assertion."""
    did = issuer_did(issuer)
    methods = [
        {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys
    ]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        # Retired keys still assert what they signed before they were retired.
        "assertionMethod": [method["id"] for method in methods],
    }


def clear_caches() -> None:
    _private_keys.clear()
