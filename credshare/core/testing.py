"""Builders for tests and benchmarks: small functions that make the objects of the network
with sensible defaults. Not used by the product itself."""

import datetime
import os
import shutil

from django.utils import timezone

from credshare.accounts.models import User
from credshare.billing.models import FeePolicy
from credshare.billing.services import credit_grant
from credshare.documents.models import Document
from credshare.documents.pdf import transcript_pdf
from credshare.documents.services import document_issue
from credshare.network.models import Membership, Organization, ShareField

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 -- test accounts only
# .ci/run sets this so that a test skipped for a missing system package fails instead.
REQUIRE_ALL_ENV = "CREDSHARE_REQUIRE_ALL_TESTS"


def require_program(program: str, *, package: str) -> str:
    """The path of PROGRAM, or skip the test saying which Debian package brings it.
    Under CI (REQUIRE_ALL_ENV set) a missing program fails the test instead."""
    import pytest

    path = shutil.which(program)
    if path:
        return path
    message = f"needs {program} (Debian package {package}: apt-get install -y {package})"
    if os.environ.get(REQUIRE_ALL_ENV):
        pytest.fail(message)
    pytest.skip(message)


def make_user(
    email: str, full_name: str = "", *, language: str = "en", verified: bool = True
) -> User:
    """An account signing in with EMAIL and PASSWORD; its address verified (as allauth
    requires to sign in) unless VERIFIED is False."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(
        email, PASSWORD, full_name=full_name or email.split("@")[0].title(), language=language
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


# Every staff member's authenticator app (make_member) holds this secret: totp_code() is what
# the app would show now.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 -- test accounts only


def enrol_totp(user: User, secret: str = TOTP_SECRET) -> None:
    """Give USER an authenticator app (TOTP) holding SECRET, unless they have one."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET, *, offset: int = 0) -> str:
    """The code an authenticator app holding SECRET shows now (OFFSET periods later)."""
    import time

    from allauth.mfa import app_settings as mfa_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + offset
    return format_hotp_value(hotp_value(secret, counter))


def fresh_totp_code(secret: str = TOTP_SECRET, *, margin: float = 5.0) -> str:
    """totp_code, but one that stays good for MARGIN seconds more: allauth accepts only the
    current period's code (no tolerance), so a code read in a period's last second fails when
    the request that carries it lands in the next one, as on a loaded machine."""
    import time

    from allauth.mfa import app_settings as mfa_settings

    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < margin:
        time.sleep(left + 0.05)
    return totp_code(secret)


def make_organization(
    slug: str,
    *,
    issuer: bool = False,
    receiver: bool = False,
    listed: bool = True,
    approved: bool = True,
    sharing_is_free: bool | None = None,
    description: str = "",
) -> Organization:
    """An organization named after SLUG, approved by the platform unless APPROVED is false."""
    name = slug.replace("-", " ").title()
    organization = Organization.objects.create(
        slug=slug,
        name_en=name,
        name_fr=f"{name} (fr)",
        description_en=description or f"{name} description",
        description_fr=description or f"Description de {name}",
        is_issuer=issuer,
        is_receiver=receiver,
        listed_in_directory=listed,
        approved_at=timezone.now() if approved else None,
    )
    if sharing_is_free is not None:
        FeePolicy.objects.create(issuer=organization, sharing_is_free=sharing_is_free)
    return organization


def make_member(
    user: User, organization: Organization, role: str = "staff", *, mfa: bool = True
) -> Membership:
    """USER on ORGANIZATION's staff. Staff must have an authenticator (accounts.middleware):
    by default USER gets one (enrol_totp; sign in with totp_code())."""
    if mfa:
        enrol_totp(user)
    return Membership.objects.create(user=user, organization=organization, role=role)


def make_share_field(organization: Organization, key: str, **values) -> ShareField:
    label = key.replace("_", " ").capitalize()
    values.setdefault("label_en", label)
    values.setdefault("label_fr", f"{label} (fr)")
    return ShareField.objects.create(organization=organization, key=key, **values)


def sample_pdf(note: str = "") -> bytes:
    return transcript_pdf(
        issuer_name="Test Issuer",
        learner_name="Test Learner",
        program="Testing",
        courses=[("TST100", "Testing", "3", "A")],
        issue_date=datetime.date(2026, 1, 1),
        note=note,
    )


def make_document(
    learner: User,
    issuer: Organization,
    title: str = "Official transcript",
    *,
    issue_date: datetime.date = datetime.date(2026, 6, 1),
    document_type: str = Document.Type.TRANSCRIPT,
    pdf: bytes | None = None,
) -> Document:
    return document_issue(
        issuer=issuer,
        learner=learner,
        document_type=document_type,
        title=title,
        issue_date=issue_date,
        pdf=pdf if pdf is not None else sample_pdf(title),
    )


def give_credits(learner: User, issuer: Organization, amount: int = 1) -> None:
    credit_grant(learner=learner, issuer=issuer, amount=amount)


def days_from_today(days: int) -> datetime.date:
    """A day DAYS after today in the platform's time zone: a share's expiry date, which must
    lie within the range of credshare.core.ranges (at most two years ahead)."""
    from django.utils import timezone

    return timezone.localdate() + datetime.timedelta(days=days)


def share_with(owner: User, documents, recipient: Organization, **values):
    """Share DOCUMENTS with RECIPIENT through the service, confirming the credit use."""
    import uuid

    from credshare.sharing.services import share_create_with_organization

    return share_create_with_organization(
        owner=owner,
        document_ids=[document.pk for document in documents],
        recipient=recipient,
        submission_token=uuid.uuid4(),
        confirmed_credit_use=True,
        **values,
    )


def share_by_link(owner: User, documents, **values):
    """Share DOCUMENTS by a secret link through the service, confirming the credit use.
    Returns the share and the link's token."""
    import uuid

    from credshare.sharing.services import share_create_link

    return share_create_link(
        owner=owner,
        document_ids=[document.pk for document in documents],
        submission_token=uuid.uuid4(),
        confirmed_credit_use=True,
        **values,
    )


def share_by_email(owner: User, documents, recipient_email: str, **values):
    """Share DOCUMENTS by email with RECIPIENT_EMAIL through the service, confirming the
    credit use. The link goes out in the queued email only."""
    import uuid

    from credshare.sharing.services import share_create_by_email

    return share_create_by_email(
        owner=owner,
        document_ids=[document.pk for document in documents],
        recipient_email=recipient_email,
        submission_token=uuid.uuid4(),
        confirmed_credit_use=True,
        **values,
    )


def make_bundle(issuer: Organization, quantity: int = 3, price_cents: int = 2500):
    """A bundle of QUANTITY share credits ISSUER sells at PRICE_CENTS."""
    from credshare.billing.models import ShareBundle

    return ShareBundle.objects.create(issuer=issuer, quantity=quantity, price_cents=price_cents)


def make_issuer_staff(organization: Organization, email: str, *, role: str = "staff") -> User:
    """A member of ORGANIZATION with ROLE ("staff" or "admin")."""
    user = make_user(email)
    make_member(user, organization, role)
    return user


def make_paid_purchase(learner: User, bundle, *, provider: str = "sandbox"):
    """A purchase of BUNDLE by LEARNER, paid through the sandbox's event path."""
    from credshare.billing.providers import SandboxProvider
    from credshare.billing.services import payment_event_apply, purchase_start

    purchase = purchase_start(learner=learner, provider=provider, bundle=bundle)
    event = SandboxProvider.button_event(purchase=purchase, kind="completed")
    payment_event_apply(provider=provider, event=event)
    purchase.refresh_from_db()
    return purchase


def set_fee_policy(issuer: Organization, **values):
    """ISSUER's fee policy with VALUES (e.g. collection_fee_cents=1500,
    tax_rate_basis_points=1300), created or updated."""
    policy, _ = FeePolicy.objects.update_or_create(issuer=issuer, defaults=values)
    return policy


def pdf_upload(data: bytes | None = None, name: str = "document.pdf"):
    """An uploaded file for a form post: DATA (a sample PDF by default) named NAME."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        name, data if data is not None else sample_pdf(name), content_type="application/pdf"
    )


def withdraw_document(document: Document, reason: str = "Issued in error", *, revoke=False):
    """Withdraw (or revoke) DOCUMENT through the service, as a member of its issuer would."""
    from credshare.documents.services import document_withdraw

    return document_withdraw(document=document, reason=reason, by=None, revoke=revoke)


# --- bulk issuance (credshare/documents/bulk.py) ----------------------------------------------

BULK_CSV_COLUMNS = (
    "external_id",
    "student_number",
    "email",
    "first_name",
    "last_name",
    "document_type",
    "title",
    "issue_date",
    "file",
)


def bulk_row(number: int, email: str, **values) -> dict:
    """One row of a bulk issuance CSV (or, without `file`, of JSON Lines), numbered NUMBER."""
    row = {
        "external_id": f"EXT-{number:05}",
        "student_number": f"S{number:07}",
        "email": email,
        "first_name": "Test",
        "last_name": f"Learner {number}",
        "document_type": "transcript",
        "title": f"Transcript {number}",
        "issue_date": "2026-06-01",
        "file": "transcript.pdf",
    }
    row.update(values)
    return row


def bulk_csv(rows, *, name: str = "rows.csv", encoding: str = "utf-8", columns=BULK_CSV_COLUMNS):
    """An uploaded CSV of ROWS (dicts) with COLUMNS, encoded in ENCODING ("utf-8-sig" writes a
    byte-order mark)."""
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def bulk_jsonl(rows, *, name: str = "rows.jsonl"):
    """An uploaded JSON Lines file of ROWS (dicts, or strings written as they are)."""
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/plain")


def bulk_zip(files: dict[str, bytes] | None = None, *, name: str = "pdfs.zip"):
    """An uploaded ZIP of FILES (name → bytes); by default one sample PDF, transcript.pdf."""
    import io
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile

    if files is None:
        files = {"transcript.pdf": sample_pdf("bulk")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def run_bulk_csv(issuer, by, rows):
    """A bulk job of ROWS (bulk_row dicts, as a CSV with the sample ZIP of PDFs) started by
    BY and run to its end in this thread; returns the job."""
    from credshare.documents import bulk

    job = bulk.issuance_job_create(
        issuer=issuer, created_by=by, rows_file=bulk_csv(rows), pdf_archive=bulk_zip()
    )
    bulk.issuance_job_process(job_id=job.pk)
    return job


def another_connection_waits_for_a_lock(*, wait_event: str | None = None, timeout: float = 10.0):
    """Whether, within TIMEOUT seconds, another connection to the test database (PostgreSQL)
    is waiting for a lock (of WAIT_EVENT only, e.g. "advisory", when given): the other side
    of a concurrency test has reached the lock, with no fixed sleep."""
    import time

    from django.db import connection

    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    params = []
    if wait_event:
        query += " AND wait_event = %s"
        params.append(wait_event)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Asked inside a transaction, the statistics would be one snapshot.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(query, params)
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.01)
    return False
