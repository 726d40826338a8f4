"""Verifying a Verifiable Credential: its proof against the issuer's published key, its
status list entry, its validity period, and what our records say of its document."""

import datetime
import functools
import json
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import JSONField, OuterRef, Subquery
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credshare.credentials.dataintegrity import ProofError, verify_proof
from credshare.credentials.jsonld import CREDENTIALS_V2, JsonLdRejected
from credshare.credentials.keys import issuer_slug_from_did
from credshare.credentials.models import CredentialKey, IssuedCredential, StatusList
from credshare.credentials.multibase import ed25519_public_key_from_multibase
from credshare.credentials.status_lists import is_set
from credshare.documents.models import DocumentVersion
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


# An issuer's published keys never change once created (a retired key stays published, with
# the same public key), so a key read once is kept for the life of the process, by database.
# Only keys found are kept: a key published later is a miss, read from the database.
_published_keys: dict[tuple[str, str, str], bytes] = {}


class _PublishedKeys:
    """public_key_for(verification_method) for verify_proof: the issuer's key, from the
    process's cache or the database."""

    def __init__(self, issuer_did: str, slug: str):
        self.issuer_did = issuer_did
        self.slug = slug
        self.cache_key = None
        self.from_cache = False

    def __call__(self, method: str) -> bytes:
        did, _hash, fragment = method.partition("#")
        if did != self.issuer_did or not fragment:
            raise self._unknown()
        self.cache_key = (connection.settings_dict["NAME"], self.slug, fragment)
        raw = _published_keys.get(self.cache_key)
        self.from_cache = raw is not None
        if raw is None:
            raw = self._read()
        if raw is None:
            raise self._unknown()
        return raw

    def reread(self) -> bool:
        """After a signature failed with a cached key: read the key again, and say whether the
        database holds another one. That never happens in production, where key rows are never
        changed; it does when a test database is rolled back and a new key takes the name."""
        if not self.from_cache:
            return False
        cached = _published_keys.pop(self.cache_key, None)
        fresh = self._read()
        if fresh is None:
            raise self._unknown()
        return fresh != cached

    def _read(self) -> bytes | None:
        multibase = (
            CredentialKey.objects.filter(issuer__slug=self.slug, fragment=self.cache_key[2])
            .values_list("public_key_multibase", flat=True)
            .first()
        )
        if multibase is None:
            return None
        raw = ed25519_public_key_from_multibase(multibase)
        _published_keys[self.cache_key] = raw
        return raw

    @staticmethod
    def _unknown() -> ProofError:
        return ProofError("unknown_key", _("The proof's key is not one the issuer has published."))


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
    keys = _PublishedKeys(issuer_did, slug)
    try:
        try:
            verify_proof(credential, public_key_for=keys)
        except ProofError as error:
            if error.code != "invalid_signature" or not keys.reread():
                raise
            verify_proof(credential, public_key_for=keys)
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


def _status_reference(entry) -> tuple[str, int, int] | None:
    """(issuer slug, list number, index) of our status list named by a credentialStatus
    entry; None when it names no list of ours."""
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
    if match.view_name != "credentials:status_list" or not 0 <= index < StatusList.SIZE:
        return None
    return match.kwargs["slug"], match.kwargs["number"], index


def _check_status(slug: str, issued: IssuedCredential, reference) -> bool:
    """Whether the credential's revocation bit is set; _Rejected(UNCHECKED) when unknown.
    REFERENCE is what _status_reference read from the credential."""
    status_list = None
    if reference is not None and reference[0] == slug:
        _slug, number, index = reference
        if number == issued.own_list_number:
            # The list a credential names is its document's own, read with the record.
            status_list = issued.own_list_credential
        else:
            # Any other (a credential put together by hand) is looked up.
            status_list = (
                StatusList.objects.filter(issuer__slug=slug, number=number)
                .values_list("credential", flat=True)
                .first()
            )
    if status_list is None:
        raise _Rejected(
            Status.UNCHECKED,
            Check("status", False, _("The credential's status list is not one of ours.")),
        )
    try:
        return is_set(status_list["credentialSubject"]["encodedList"], index)
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


@functools.cache
def _records():
    """IssuedCredential rows with what a verdict needs besides, in one query: the document,
    its issuer and learner, the number of its newest version (`newest_number`), and the number
    and content of the status list its entry is in (`own_list_number`, `own_list_credential`).
    Subqueries rather than joins: PostgreSQL takes longer to plan a join of seven tables than
    to run it. Built once: building this queryset costs about as much as running it."""
    document = OuterRef("version__document_id")
    newest = DocumentVersion.objects.filter(document_id=document).order_by("-number")
    own_list = StatusList.objects.filter(
        entries__document_id=document, issuer_id=OuterRef("version__document__issuer_id")
    )
    return IssuedCredential.objects.select_related(
        "version__document__issuer", "version__document__learner"
    ).annotate(
        newest_number=Subquery(newest.values("number")[:1]),
        own_list_number=Subquery(own_list.values("number")[:1]),
        own_list_credential=Subquery(own_list.values("credential")[:1], output_field=JSONField()),
    )


def _issued_credential(credential: dict) -> IssuedCredential | None:
    identifier = credential.get("id")
    if not isinstance(identifier, str) or not identifier.startswith("urn:uuid:"):
        return None
    try:
        public_id = uuid.UUID(identifier.removeprefix("urn:uuid:"))
    except ValueError:
        return None
    # A slice, not first(): public_id is unique, and first() would also order the query.
    found = list(_records().filter(public_id=public_id)[:1])
    return found[0] if found else None


TOO_DEEP = gettext_lazy("This JSON is nested too deeply to be a credential.")


def verify_credential(data) -> Verdict:
    """The verdict on a credential; VerificationInputError when DATA is not one."""
    try:
        return _verify_credential(data)
    except RecursionError:
        # JSON nested deeper than the parser or the JSON-LD processing can follow: no
        # credential of ours is.
        raise VerificationInputError("not_a_credential", TOO_DEEP) from None


def _verify_credential(data) -> Verdict:
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
        revoked = _check_status(slug, issued, _status_reference(credential.get("credentialStatus")))
    except _Rejected as rejected:
        verdict.status = rejected.status
        verdict.checks.append(rejected.check)
        if rejected.status == Status.UNCHECKED and issued is not None:
            # The signature holds: say whose document it is, not whether it still stands.
            describe_document(verdict, issued.version, issued.newest_number)
        return verdict
    verdict.checks.append(
        Check(
            "status",
            not revoked,
            _("The issuer has withdrawn or revoked this credential.")
            if revoked
            else _("The issuer has not withdrawn or revoked this credential."),
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
    describe_document(verdict, issued.version, issued.newest_number)
    # The list is the public truth; our records say which kind of withdrawal it was.
    if revoked and verdict.status not in (Status.REVOKED, Status.WITHDRAWN):
        verdict.status = Status.REVOKED
    elif (
        valid_from is not None
        and valid_from > now
        and verdict.status in (Status.VALID, Status.SUPERSEDED)
    ):
        # The credential's own (signed) validFrom has not come: never verified before it.
        verdict.status = Status.NOT_YET_VALID
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
