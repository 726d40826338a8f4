"""Verifying a Verifiable Credential: its proof against the issuer's published key, its
status list entry, its validity period, and what our records say of its document."""

import datetime
import json
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _

from credshare.credentials.dataintegrity import ProofError, verify_proof
from credshare.credentials.jsonld import CREDENTIALS_V2, JsonLdRejected
from credshare.credentials.keys import issuer_slug_from_did
from credshare.credentials.models import CredentialKey, IssuedCredential, StatusList
from credshare.credentials.multibase import ed25519_public_key_from_multibase
from credshare.credentials.status_lists import is_set
from credshare.verification.verdicts import (
    Check,
    Status,
    Verdict,
    VerificationInputError,
    describe_document,
)


def parse_credential(data) -> dict:
    """The credential in DATA (bytes, text or already parsed JSON), or VerificationInputError."""
    if isinstance(data, bytes | str):
        if len(data) > settings.CREDSHARE_MAX_CREDENTIAL_BYTES:
            raise VerificationInputError(
                "too_large", _("The credential is too large to be one of ours.")
            )
        try:
            data = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise VerificationInputError("malformed_json", _("This is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise VerificationInputError(
            "not_a_credential", _("This JSON is not a Verifiable Credential.")
        )
    context = data.get("@context")
    types = data.get("type")
    if (
        not isinstance(context, list)
        or not context
        or context[0] != CREDENTIALS_V2
        or not isinstance(types, list)
        or "VerifiableCredential" not in types
    ):
        raise VerificationInputError(
            "not_a_credential",
            _("This JSON is not a Verifiable Credential (VC Data Model 2.0)."),
        )
    return data


class _Rejected(Exception):
    """Ends a verification early with an ALTERED or UNCHECKED verdict."""

    def __init__(self, status: Status, check: Check):
        self.status = status
        self.check = check


def _issuer_id(credential: dict) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _issuer_name(credential: dict) -> str:
    issuer = credential.get("issuer")
    name = issuer.get("name") if isinstance(issuer, dict) else ""
    return name if isinstance(name, str) else ""


def _public_key_finder(issuer_did: str, slug: str):
    def public_key_for(method: str) -> bytes:
        did, _hash, fragment = method.partition("#")
        key = None
        if did == issuer_did and fragment:
            key = CredentialKey.objects.filter(issuer__slug=slug, fragment=fragment).first()
        if key is None:
            raise ProofError(
                "unknown_key", _("The proof's key is not one the issuer has published.")
            )
        return ed25519_public_key_from_multibase(key.public_key_multibase)

    return public_key_for


def _check_proof(credential: dict) -> str:
    """The issuer's slug once the proof verifies; _Rejected otherwise."""
    issuer_did = _issuer_id(credential)
    slug = issuer_slug_from_did(issuer_did)
    if slug is None:
        raise _Rejected(
            Status.ALTERED,
            Check(
                "issuer",
                False,
                _("The issuer %(issuer)s is not a member of the network.")
                % {"issuer": issuer_did[:200] or _("(none)")},
            ),
        )
    try:
        verify_proof(credential, public_key_for=_public_key_finder(issuer_did, slug))
    except ProofError as error:
        raise _Rejected(Status.ALTERED, Check("proof", False, _proof_message(error))) from None
    except JsonLdRejected:
        raise _Rejected(
            Status.ALTERED,
            Check(
                "proof",
                False,
                _("The credential uses a JSON-LD context that credshare does not know."),
            ),
        ) from None
    return slug


def _proof_message(error: ProofError) -> str:
    messages = {
        "no_proof": _("The credential is not signed."),
        "unsupported_proof": _(
            "The credential's proof is not a Data Integrity proof (eddsa-rdfc-2022)."
        ),
        "proof_purpose": _("The proof is not made for assertion."),
        "malformed_proof": _("The proof is malformed."),
        "unknown_key": _("The proof's key is not one the issuer has published."),
        "invalid_signature": _(
            "The signature does not match the content: the credential was altered."
        ),
    }
    return messages.get(error.code, _("The proof is malformed."))


def _status_list_of(entry) -> tuple[StatusList, int] | None:
    """Our status list named by a credentialStatus entry, and the index; None if unknown."""
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return None
    url = entry.get("statusListCredential")
    base = settings.CREDSHARE_BASE_URL.rstrip("/")
    if not isinstance(url, str) or not url.startswith(base + "/"):
        return None
    try:
        match = resolve(urlsplit(url).path)
        index = int(entry.get("statusListIndex"))
    except (Resolver404, TypeError, ValueError):
        return None
    if match.view_name != "credentials:status_list":
        return None
    status_list = StatusList.objects.filter(
        issuer__slug=match.kwargs["slug"], number=match.kwargs["number"]
    ).first()
    if status_list is None or not 0 <= index < StatusList.SIZE:
        return None
    return status_list, index


def _check_status(credential: dict, slug: str) -> bool:
    """Whether the credential's revocation bit is set; _Rejected(UNCHECKED) when unknown."""
    found = _status_list_of(credential.get("credentialStatus"))
    if found is None or found[0].issuer.slug != slug:
        raise _Rejected(
            Status.UNCHECKED,
            Check("status", False, _("The credential's status list is not one of ours.")),
        )
    status_list, index = found
    try:
        return is_set(status_list.credential["credentialSubject"]["encodedList"], index)
    except (KeyError, TypeError, ValueError):
        raise _Rejected(
            Status.UNCHECKED, Check("status", False, _("The status list could not be read."))
        ) from None


def _parse_time(value) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _issued_credential(credential: dict) -> IssuedCredential | None:
    identifier = credential.get("id")
    if not isinstance(identifier, str) or not identifier.startswith("urn:uuid:"):
        return None
    try:
        public_id = uuid.UUID(identifier.removeprefix("urn:uuid:"))
    except ValueError:
        return None
    return (
        IssuedCredential.objects.select_related(
            "version__document__issuer", "version__document__learner"
        )
        .filter(public_id=public_id)
        .first()
    )


def verify_credential(data) -> Verdict:
    """The verdict on a credential; VerificationInputError when DATA is not one."""
    credential = parse_credential(data)
    verdict = Verdict(kind="credential", status=Status.VALID, issuer_name=_issuer_name(credential))
    issued = None
    try:
        slug = _check_proof(credential)
        verdict.checks.append(
            Check("proof", True, _("The issuer's signature (eddsa-rdfc-2022) is valid."))
        )
        issued = _issued_credential(credential)
        if issued is None or issued.version.document.issuer.slug != slug:
            raise _Rejected(
                Status.ALTERED,
                Check("record", False, _("credshare has no record of this credential.")),
            )
        revoked = _check_status(credential, slug)
    except _Rejected as rejected:
        verdict.status = rejected.status
        verdict.checks.append(rejected.check)
        if rejected.status == Status.UNCHECKED and issued is not None:
            # The signature holds: say whose document it is, not whether it still stands.
            describe_document(verdict, issued.version)
        return verdict
    verdict.checks.append(
        Check(
            "status",
            not revoked,
            _("The issuer has revoked this credential.")
            if revoked
            else _("The issuer has not revoked this credential."),
        )
    )
    now = timezone.now()
    valid_until = _parse_time(credential.get("validUntil"))
    valid_from = _parse_time(credential.get("validFrom"))
    if valid_until is not None:
        verdict.checks.append(
            Check(
                "valid_until",
                valid_until > now,
                _("Valid until %(date)s.") % {"date": valid_until.date().isoformat()},
            )
        )
    if valid_from is not None and valid_from > now:
        verdict.checks.append(Check("valid_from", False, _("Not valid yet.")))
    describe_document(verdict, issued.version)
    # The list is the public truth; our records say which kind of withdrawal it was.
    if revoked and verdict.status not in (Status.REVOKED, Status.WITHDRAWN):
        verdict.status = Status.REVOKED
    elif (
        valid_until is not None
        and valid_until <= now
        and verdict.status
        in (
            Status.VALID,
            Status.SUPERSEDED,
        )
    ):
        verdict.status = Status.EXPIRED
    return verdict
