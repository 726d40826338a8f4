"""Authorization, proven: every URL pattern of the site, for every kind of visitor and every
state of its object, answers what `authorization_matrix.TABLE` says (one test per row), and
no pattern is left out of the table (`test_every_url_pattern_is_in_the_table`).

The network the rows run against is built once for the module (`world`), inside a
transaction rolled back at the end; each row runs in its own savepoint, so a POST that
changes something leaves the next rows the same network. One representative object per
state: shares active, expired and revoked (and active with a withdrawn document), documents
active, withdrawn, revoked and locked until their collection fee is paid.
"""

import base64
import dataclasses
import datetime
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from credshare.accounts.models import Invitation, User
from credshare.accounts.services import invitation_send
from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.billing.models import Purchase
from credshare.billing.services import purchase_start
from credshare.core import testing
from credshare.core.tests.authorization_matrix import (
    ADMIN_GROUP,
    REFUSED,
    Row,
    covered_patterns,
    rows,
)
from credshare.credentials.models import StatusList
from credshare.documents import bulk
from credshare.documents.models import Document
from credshare.network.models import Membership
from credshare.sharing.models import Share
from credshare.sharing.recipient_views import CODE_NEEDED, GRANTS, VERIFIED
from credshare.sharing.services import share_revoke
from credshare.webhooks.models import WebhookDelivery
from credshare.webhooks.services import endpoint_create

METRICS_TOKEN = "matrix-metrics-token"  # noqa: S105 -- a test value

# The module's network is built with these, and each row runs with them too.
MATRIX_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "CREDSHARE_TASKS": "none",
    "LANGUAGE_CODE": "en",
    "CREDSHARE_METRICS_TOKEN": METRICS_TOKEN,
}


# --- the network --------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    users: dict[str, User]  # by role (without "@own_slug"); no entry for anonymous
    own_slug: dict[str, str]  # the organization of the "other_…" roles
    university: object
    ecole: object
    documents: dict[str, Document]  # by state
    org_shares: dict[str, Share]  # addressed to École Imaginaire, by state
    link_shares: dict[str, tuple[Share, str]]  # (share, token) by state
    email_shares: dict[str, tuple[Share, str]]
    bundle: object
    paid_purchase: Purchase
    pending_purchase: Purchase
    job: object
    field: object
    camille_membership: Membership
    staff_invitation: Invitation  # École Imaginaire's, waiting for an answer
    ecole_key: ApiKey
    endpoint: object
    delivery: WebhookDelivery
    status_list: StatusList
    api_keys: dict[str, str]  # role → key text
    staff_authenticator: int = 0
    sessions: dict = dataclasses.field(default_factory=dict)  # (role, share pk) → session key


def _expire(share: Share) -> None:
    # The service refuses an expiry in the past; a share created earlier reaches it by time.
    Share.objects.filter(pk=share.pk).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    share.refresh_from_db()


def _in_states(make: Callable[[list[Document]], object], documents) -> dict:
    """A share (from MAKE) in each state; "shared_doc_withdrawn" holds the withdrawn one."""
    shares = {state: make([documents["active"]]) for state in ("active", "expired", "revoked")}
    shares["shared_doc_withdrawn"] = make([documents["to_withdraw"]])
    first = lambda made: made[0] if isinstance(made, tuple) else made  # noqa: E731
    _expire(first(shares["expired"]))
    share_revoke(share=first(shares["revoked"]))
    return shares


def build_world() -> World:
    university = testing.make_organization("example-university", issuer=True, sharing_is_free=False)
    college = testing.make_organization("free-college", issuer=True, sharing_is_free=True)
    # The other issuer also asks a collection fee: Zoé's diploma from it is locked.
    testing.set_fee_policy(college, collection_fee_cents=1500)
    ecole = testing.make_organization("ecole-imaginaire", receiver=True)
    field = testing.make_share_field(ecole, "application_number", required=False, position=1)
    acme = testing.make_organization("acme", receiver=True)

    zoe = testing.make_user("zoe@example.org", "Zoé Citoyenne")
    testing.give_credits(zoe, university, 20)
    users = {
        "owner": zoe,
        "other_learner": testing.make_user("bob@example.org", "Bob Other"),
        "issuer_staff": testing.make_issuer_staff(university, "registrar@university.example"),
        "issuer_admin": testing.make_issuer_staff(
            university, "head@university.example", role="admin"
        ),
        "other_issuer_admin": testing.make_issuer_staff(
            college, "admin@college.example", role="admin"
        ),
        "recipient_staff": testing.make_issuer_staff(ecole, "camille@ecole.example"),
        "recipient_admin": testing.make_issuer_staff(ecole, "head@ecole.example", role="admin"),
        "other_org_admin": testing.make_issuer_staff(acme, "dave@acme.example", role="admin"),
        "platform_admin": User.objects.create_superuser("admin@credshare.example", "x"),
    }
    # Every account with power signs in with its second factor (as make_issuer_staff's do);
    # a session without it is refused everything (accounts/tests/test_mfa_required.py).
    testing.enrol_totp(users["platform_admin"])

    documents = {"active": testing.make_document(zoe, university, "Official transcript")}
    documents["to_withdraw"] = testing.make_document(zoe, university, "Withdrawn transcript")
    documents["revoked"] = testing.make_document(zoe, university, "Revoked transcript")
    documents["locked"] = testing.make_document(zoe, college, "Diploma", document_type="diploma")

    org_shares = _in_states(lambda docs: testing.share_with(zoe, docs, ecole), documents)
    link_shares = _in_states(lambda docs: testing.share_by_link(zoe, docs), documents)
    email_shares = _in_states(lambda docs: _email_share(zoe, docs, "reader@example.net"), documents)
    testing.withdraw_document(documents["to_withdraw"])
    testing.withdraw_document(documents["revoked"], revoke=True)
    documents["withdrawn"] = documents.pop("to_withdraw")
    for document in documents.values():
        document.refresh_from_db()

    bundle = testing.make_bundle(university)
    paid = testing.make_paid_purchase(zoe, bundle)
    pending = purchase_start(learner=zoe, provider="sandbox", bundle=bundle)
    job = bulk.issuance_job_create(
        issuer=university,
        created_by=users["issuer_staff"],
        rows_file=testing.bulk_csv([testing.bulk_row(1, zoe.email)]),
        pdf_archive=testing.bulk_zip(),
    )
    ecole_key = api_key_create(
        organization=ecole, name="Admissions", scopes=list(ApiKey.RECEIVING_SCOPES), by=None
    )
    endpoint = endpoint_create(
        organization=ecole, url="https://sis.ecole.example/hook", events=["share.received"], by=None
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="share.received", payload={"type": "share.received"}
    )
    api_keys = {
        "recipient_key": ecole_key,
        "other_org_key": api_key_create(
            organization=acme, name="Acme", scopes=list(ApiKey.RECEIVING_SCOPES), by=None
        ),
        "issuer_key": api_key_create(
            organization=university, name="SIS", scopes=list(ApiKey.ISSUING_SCOPES), by=None
        ),
        "other_issuer_key": api_key_create(
            organization=college, name="College", scopes=list(ApiKey.ISSUING_SCOPES), by=None
        ),
    }
    world = World(
        users=users,
        own_slug={"other_issuer_admin": college.slug, "other_org_admin": acme.slug},
        university=university,
        ecole=ecole,
        documents=documents,
        org_shares=org_shares,
        link_shares=link_shares,
        email_shares=email_shares,
        bundle=bundle,
        paid_purchase=paid,
        pending_purchase=pending,
        job=job,
        field=field,
        camille_membership=Membership.objects.get(user=users["recipient_staff"]),
        staff_invitation=invitation_send(
            email="invited@ecole.example",
            purpose=Invitation.Purpose.JOIN_ORGANIZATION,
            invited_by_org=ecole,
            role=Membership.Role.STAFF,
        ),
        ecole_key=ecole_key[0],
        endpoint=endpoint,
        delivery=delivery,
        status_list=StatusList.objects.filter(issuer=university).first(),
        api_keys={role: text for role, (_model, text) in api_keys.items()},
    )
    world.staff_authenticator = Authenticator.objects.filter(user=users["issuer_staff"]).first().pk
    _open_sessions(world)
    return world


def _open_sessions(world: World) -> None:
    """A signed-in session for each person, and for the recipients' roles one holding the
    grant to each share of theirs, made once: a row sends its cookie instead of signing in."""
    for role, user in world.users.items():
        client = Client()
        client.force_login(user)
        world.sessions[role, None] = client.cookies[settings.SESSION_COOKIE_NAME].value
    grants = [("link_recipient", world.link_shares, VERIFIED)]
    grants += [("email_recipient", world.email_shares, CODE_NEEDED)]
    grants += [("email_recipient_verified", world.email_shares, VERIFIED)]
    for role, shares, level in grants:
        for share, _token in shares.values():
            # The grant the door /s/<token>/ (or the right access code) puts in the
            # session, given while the share was live: an expired or revoked share is then
            # reached with it.
            session = SessionStore()
            session[GRANTS] = {str(share.pk): level}
            session.create()
            world.sessions[role, share.pk] = session.session_key


def _email_share(owner, documents, address):
    share = testing.share_by_email(owner, documents, address)
    # The token goes out in the email only; the recipient's pages are reached with a grant
    # in the session (as the door /s/<token>/ gives), so the token is not needed here.
    return share, None


@pytest.fixture(scope="module")
def _matrix_media(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, _matrix_media):
    # Overrides the root conftest's per-test media directory: the module's documents were
    # stored once, in this one.
    settings.MEDIA_ROOT = _matrix_media


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, _matrix_media):
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=_matrix_media, **MATRIX_SETTINGS),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- addresses ------------------------------------------------------------------------------


@dataclasses.dataclass
class Call:
    """One row's request as the table's pattern, role and state make it."""

    w: World
    row: Row

    @property
    def role(self) -> str:
        return self.row.role.removesuffix("@own_slug")

    def slug(self, organization) -> str:
        """ORGANIZATION's slug; for an "@own_slug" role, that of the role's own organization
        (its own pages, asked for another organization's object)."""
        if self.row.role.endswith("@own_slug"):
            return self.w.own_slug[self.role]
        return organization.slug

    @property
    def state(self) -> str:
        return self.row.state

    def document(self) -> Document:
        return self.w.documents["active" if self.state == "any" else self.state]

    def share(self, shares: dict) -> Share:
        share = shares["active" if self.state == "any" else self.state]
        return share[0] if isinstance(share, tuple) else share

    def shared_document(self) -> Document:
        return self.w.documents["withdrawn" if self.state == "shared_doc_withdrawn" else "active"]

    def recipient_share(self) -> Share:
        """The share a recipient's page is asked for: the email share for the email roles,
        the link share for anyone else."""
        shares = self.w.email_shares if self.role.startswith("email_") else self.w.link_shares
        return self.share(shares)


def _u(name: str, *args, query: str = "") -> str:
    return reverse(name, args=args) + (f"?{query}" if query else "")


def _uni(c: Call) -> str:
    return c.slug(c.w.university)


def _eco(c: Call) -> str:
    return c.slug(c.w.ecole)


def _org_share(c: Call) -> int:
    return c.share(c.w.org_shares).pk


def _api_share(c: Call) -> str:
    return str(c.share(c.w.org_shares).public_id)


def _api_document(c: Call) -> str:
    return str(c.document().public_id)


def _token(c: Call) -> str:
    if c.role == "link_recipient":
        return c.w.link_shares["active" if c.state == "any" else c.state][1]
    return "not-a-share-token-aaaaaaaaaaaaaaaa"


_docs = lambda c: f"documents={c.w.documents['active'].pk}"  # noqa: E731

# Every pattern's address for a row (pattern names as `reverse` takes them).
URLS: dict[str, Callable[[Call], str]] = {
    "home": lambda c: _u("home"),
    "help": lambda c: _u("help"),
    "terms": lambda c: _u("terms"),
    "privacy": lambda c: _u("privacy"),
    "language_switch": lambda c: _u("language_switch"),
    "login": lambda c: _u("login"),
    "logout": lambda c: _u("logout"),
    "documents:list": lambda c: _u("documents:list"),
    "documents:detail": lambda c: _u("documents:detail", c.document().pk),
    "documents:view": lambda c: _u("documents:view", c.document().pk),
    "documents:download": lambda c: _u("documents:download", c.document().pk),
    "documents:credential": lambda c: _u("documents:credential", c.document().pk),
    "sharing:list": lambda c: _u("sharing:list"),
    "sharing:start": lambda c: _u("sharing:start", query=_docs(c)),
    "sharing:with_organization": lambda c: _u("sharing:with_organization", query=_docs(c)),
    "sharing:fields": lambda c: _u("sharing:fields", query="recipient=ecole-imaginaire"),
    "sharing:by_email": lambda c: _u("sharing:by_email", query=_docs(c)),
    "sharing:by_link": lambda c: _u("sharing:by_link", query=_docs(c)),
    "sharing:finish": lambda c: _u("sharing:finish"),
    "sharing:detail": lambda c: _u("sharing:detail", _org_share(c)),
    "sharing:done": lambda c: _u("sharing:done", _org_share(c)),
    "sharing:qr": lambda c: _u("sharing:qr", c.share(c.w.link_shares).pk, "svg"),
    "sharing:expiry": lambda c: _u("sharing:expiry", _org_share(c)),
    "sharing:revoke": lambda c: _u("sharing:revoke", _org_share(c)),
    "sharing:code_unlock": lambda c: _u("sharing:code_unlock", c.share(c.w.email_shares).pk),
    "inbox:list": lambda c: _u("inbox:list"),
    "inbox:share": lambda c: _u("inbox:share", _org_share(c)),
    "inbox:view": lambda c: _u("inbox:view", _org_share(c), c.shared_document().pk),
    "inbox:download": lambda c: _u("inbox:download", _org_share(c), c.shared_document().pk),
    "billing:buy_shares": lambda c: _u("billing:buy_shares", c.w.university.slug),
    "billing:pay_collection": lambda c: _u("billing:pay_collection", c.w.documents["locked"].pk),
    "billing:purchase": lambda c: _u("billing:purchase", c.w.pending_purchase.public_id),
    "billing:payments": lambda c: _u("billing:payments"),
    "billing:receipt": lambda c: _u("billing:receipt", c.w.paid_purchase.public_id),
    "billing:receipt_pdf": lambda c: _u("billing:receipt_pdf", c.w.paid_purchase.public_id),
    "payments:sandbox": lambda c: _u("payments:sandbox", c.w.pending_purchase.public_id),
    "payments:stripe_webhook": lambda c: _u("payments:stripe_webhook"),
    "issuer_billing:settings": lambda c: _u("issuer_billing:settings", _uni(c)),
    "issuer_billing:bundle_add": lambda c: _u("issuer_billing:bundle_add", _uni(c)),
    "issuer_billing:bundle_active": lambda c: _u(
        "issuer_billing:bundle_active", _uni(c), c.w.bundle.pk
    ),
    "issuer_billing:payments": lambda c: _u("issuer_billing:payments", _uni(c)),
    "issuer_billing:refund": lambda c: _u("issuer_billing:refund", _uni(c), c.w.paid_purchase.pk),
    "issuer_billing:grant": lambda c: _u("issuer_billing:grant", _uni(c)),
    "issuer_documents:list": lambda c: _u("issuer_documents:list", _uni(c)),
    "issuer_documents:new": lambda c: _u("issuer_documents:new", _uni(c)),
    "issuer_documents:detail": lambda c: _u("issuer_documents:detail", _uni(c), c.document().pk),
    "issuer_documents:version_add": lambda c: _u(
        "issuer_documents:version_add", _uni(c), c.document().pk
    ),
    "issuer_documents:version_download": lambda c: _u(
        "issuer_documents:version_download", _uni(c), c.document().pk, 1
    ),
    "issuer_documents:withdraw": lambda c: _u(
        "issuer_documents:withdraw", _uni(c), c.document().pk
    ),
    "issuer_documents:bulk_list": lambda c: _u("issuer_documents:bulk_list", _uni(c)),
    "issuer_documents:bulk_new": lambda c: _u("issuer_documents:bulk_new", _uni(c)),
    "issuer_documents:bulk_detail": lambda c: _u(
        "issuer_documents:bulk_detail", _uni(c), c.w.job.public_id
    ),
    "issuer_documents:bulk_progress": lambda c: _u(
        "issuer_documents:bulk_progress", _uni(c), c.w.job.public_id
    ),
    "issuer_documents:bulk_report": lambda c: _u(
        "issuer_documents:bulk_report", _uni(c), c.w.job.public_id
    ),
    "recipient:share": lambda c: _u("recipient:share", c.recipient_share().pk),
    "recipient:code": lambda c: _u("recipient:code", c.share(c.w.email_shares).pk),
    "recipient:code_new": lambda c: _u("recipient:code_new", c.share(c.w.email_shares).pk),
    "recipient:view": lambda c: _u(
        "recipient:view", c.recipient_share().pk, c.shared_document().pk
    ),
    "recipient:download": lambda c: _u(
        "recipient:download", c.recipient_share().pk, c.shared_document().pk
    ),
    "recipient:open": lambda c: _u("recipient:open", _token(c)),
    "api:openapi-json": lambda c: "/api/v1/openapi.json",
    "api:openapi-view": lambda c: "/api/v1/docs",
    "api:api-root": lambda c: "/api/v1/",
    "api:unknown": lambda c: "/api/v1/no/such/address",
    "api:shares": lambda c: "/api/v1/shares",
    "api:share": lambda c: f"/api/v1/shares/{_api_share(c)}",
    "api:share_document_pdf": lambda c: (
        f"/api/v1/shares/{_api_share(c)}/documents/{c.shared_document().public_id}/pdf"
    ),
    "api:share_processed": lambda c: f"/api/v1/shares/{_api_share(c)}/processed",
    "api:documents": lambda c: "/api/v1/documents",
    "api:document": lambda c: f"/api/v1/documents/{_api_document(c)}",
    "api:document_versions": lambda c: f"/api/v1/documents/{_api_document(c)}/versions",
    "api:document_withdraw": lambda c: f"/api/v1/documents/{_api_document(c)}/withdraw",
    "api:jobs": lambda c: "/api/v1/jobs",
    "api:job": lambda c: f"/api/v1/jobs/{c.w.job.public_id}",
    "api:job_rejections": lambda c: f"/api/v1/jobs/{c.w.job.public_id}/rejections",
    "network:profile": lambda c: _u("network:profile", _eco(c)),
    "network:fields": lambda c: _u("network:fields", _eco(c)),
    "network:field_new": lambda c: _u("network:field_new", _eco(c)),
    "network:field_edit": lambda c: _u("network:field_edit", _eco(c), c.w.field.pk),
    "network:field_move": lambda c: _u("network:field_move", _eco(c), c.w.field.pk),
    "network:field_required": lambda c: _u("network:field_required", _eco(c), c.w.field.pk),
    "network:field_active": lambda c: _u("network:field_active", _eco(c), c.w.field.pk),
    "network:staff": lambda c: _u("network:staff", _eco(c)),
    "network:member_invite": lambda c: _u("network:member_invite", _eco(c)),
    "network:invitation_revoke": lambda c: _u(
        "network:invitation_revoke", _eco(c), c.w.staff_invitation.pk
    ),
    "network:member_role": lambda c: _u("network:member_role", _eco(c), c.w.camille_membership.pk),
    "network:member_remove": lambda c: _u(
        "network:member_remove", _eco(c), c.w.camille_membership.pk
    ),
    "network:keys": lambda c: _u("network:keys", _eco(c)),
    "network:key_new": lambda c: _u("network:key_new", _eco(c)),
    "network:key_revoke": lambda c: _u("network:key_revoke", _eco(c), c.w.ecole_key.public_id),
    "network:webhooks": lambda c: _u("network:webhooks", _eco(c)),
    "network:webhook_new": lambda c: _u("network:webhook_new", _eco(c)),
    "network:webhook": lambda c: _u("network:webhook", _eco(c), c.w.endpoint.public_id),
    "network:webhook_edit": lambda c: _u("network:webhook_edit", _eco(c), c.w.endpoint.public_id),
    "network:webhook_rotate": lambda c: _u(
        "network:webhook_rotate", _eco(c), c.w.endpoint.public_id
    ),
    "network:webhook_delete": lambda c: _u(
        "network:webhook_delete", _eco(c), c.w.endpoint.public_id
    ),
    "network:delivery_redeliver": lambda c: _u(
        "network:delivery_redeliver", _eco(c), c.w.delivery.public_id
    ),
    "verification:start": lambda c: _u("verification:start"),
    "verification:document": lambda c: _u("verification:document", c.document().public_id),
    "verification:api_credential": lambda c: _u("verification:api_credential"),
    "verification:api_pdf": lambda c: _u("verification:api_pdf"),
    "credentials:did": lambda c: _u("credentials:did", c.w.university.slug),
    "credentials:status_list": lambda c: _u(
        "credentials:status_list", c.w.university.slug, c.w.status_list.number
    ),
    "ops:health": lambda c: _u("ops:health"),
    "ops:health_live": lambda c: _u("ops:health_live"),
    "ops:metrics": lambda c: _u("ops:metrics"),
    "network:branding": lambda c: _u("network:branding", _eco(c)),
    "network:logo": lambda c: _u("network:logo", _eco(c)),
    "audit:organization": lambda c: _u("audit:organization", _eco(c)),
    "account_privacy:page": lambda c: _u("account_privacy:page"),
    "account_privacy:export": lambda c: _u("account_privacy:export"),
    "account_privacy:close": lambda c: _u("account_privacy:close"),
    "account_privacy:closed": lambda c: _u("account_privacy:closed"),
    "route:login/": lambda c: "/login/",
    "accounts:invitation": lambda c: _u("accounts:invitation", "not-an-invitation-token"),
    "accounts:invitation_signup": lambda c: _u(
        "accounts:invitation_signup", "not-an-invitation-token"
    ),
    **{
        name: lambda c, name=name: _u(name)
        for name in [
            "account_login",
            "account_logout",
            "account_signup",
            "account_email",
            "account_email_verification_sent",
            "account_inactive",
            "account_reauthenticate",
            "account_confirm_login_code",
            "account_change_password",
            "account_set_password",
            "account_reset_password",
            "account_reset_password_done",
            "account_reset_password_from_key_done",
            "mfa_index",
            "mfa_authenticate",
            "mfa_reauthenticate",
            "mfa_activate_totp",
            "mfa_deactivate_totp",
            "mfa_view_recovery_codes",
            "mfa_download_recovery_codes",
            "mfa_generate_recovery_codes",
            "mfa_list_webauthn",
            "mfa_add_webauthn",
            "mfa_reauthenticate_webauthn",
        ]
    },
    "account_confirm_email": lambda c: _u("account_confirm_email", "not-a-key"),
    "account_reset_password_from_key": lambda c: _u(
        "account_reset_password_from_key", "1", "not-a-key"
    ),
    # The issuer staff member's authenticator: another person's, for anyone else.
    "mfa_edit_webauthn": lambda c: _u("mfa_edit_webauthn", c.w.staff_authenticator),
    "mfa_remove_webauthn": lambda c: _u("mfa_remove_webauthn", c.w.staff_authenticator),
}

SAMPLE_PDF_BASE64 = base64.b64encode(testing.sample_pdf("corrected")).decode()

# What a POST sends: enough to pass the view's form where that is simple, so that a role
# let in gets the answer of a done action (a redirect); a role refused gets its refusal
# whatever the body.
BODIES: dict[str, Callable[[Call], dict]] = {
    "language_switch": lambda c: {"language": "en", "next": "/"},
    "sharing:with_organization": lambda c: {"documents": [c.w.documents["active"].pk]},
    "sharing:by_email": lambda c: {"documents": [c.w.documents["active"].pk]},
    "sharing:by_link": lambda c: {"documents": [c.w.documents["active"].pk]},
    "sharing:expiry": lambda c: {"expires_on": ""},
    "billing:buy_shares": lambda c: {"bundle": c.w.bundle.pk},
    "payments:sandbox": lambda c: {"action": "cancel"},
    "issuer_billing:bundle_active": lambda c: {"is_active": "0"},
    "issuer_documents:withdraw": lambda c: {"action": "withdraw", "reason": "Issued in error"},
    "recipient:code": lambda c: {"code": "000000"},
    "network:field_move": lambda c: {"direction": "down"},
    "network:field_required": lambda c: {"value": "1"},
    "network:field_active": lambda c: {"value": "0"},
    "network:member_role": lambda c: {"role": "admin"},
    "api:document_versions": lambda c: {"pdf_base64": SAMPLE_PDF_BASE64},
    "api:document_withdraw": lambda c: {"reason": "Issued in error"},
}

# For a few actions, what a refused POST must leave as it was.
FINGERPRINTS: dict[str, Callable[[Call], object]] = {
    "sharing:revoke": lambda c: Share.objects.filter(pk=_org_share(c)).values_list(
        "revoked_at", "expires_on"
    )[0],
    "sharing:expiry": lambda c: Share.objects.filter(pk=_org_share(c)).values_list(
        "revoked_at", "expires_on"
    )[0],
    "issuer_documents:withdraw": lambda c: Document.objects.filter(pk=c.document().pk).values_list(
        "status", "status_changed_at"
    )[0],
    "issuer_billing:refund": lambda c: Purchase.objects.get(pk=c.w.paid_purchase.pk).status,
    "network:key_revoke": lambda c: ApiKey.objects.get(pk=c.w.ecole_key.pk).revoked_at,
    "network:invitation_revoke": lambda c: (
        Invitation.objects.get(pk=c.w.staff_invitation.pk).revoked_at
    ),
    "network:member_remove": lambda c: Membership.objects.filter(
        pk=c.w.camille_membership.pk
    ).values_list("role", flat=True)[0],
    "api:document_withdraw": lambda c: Document.objects.filter(pk=c.document().pk).values_list(
        "status", "status_changed_at"
    )[0],
    "sharing:with_organization": lambda c: Share.objects.count(),
    "sharing:by_link": lambda c: Share.objects.count(),
    "mfa_remove_webauthn": lambda c: Authenticator.objects.filter(
        pk=c.w.staff_authenticator
    ).exists(),
    "account_privacy:close": lambda c: User.objects.get(pk=c.w.users["owner"].pk).is_active,
    "api:share_processed": lambda c: Share.objects.filter(pk=_org_share(c)).values_list(
        "processed_at", flat=True
    )[0],
}


# --- a request as a role --------------------------------------------------------------------


def client_for(c: Call) -> tuple[Client, dict]:
    """A browser (or API client) of the row's role, and the headers it sends."""
    client = Client()
    role = c.role
    headers = {}
    session = None
    if role in c.w.api_keys:
        headers["Authorization"] = f"Bearer {c.w.api_keys[role]}"
    elif role in c.w.users:
        session = c.w.sessions[role, None]
    elif role in ("link_recipient", "email_recipient", "email_recipient_verified"):
        if c.row.pattern != "recipient:open":  # the door itself is opened with the token
            session = c.w.sessions[role, c.recipient_share().pk]
    elif role != "anonymous":
        raise AssertionError(f"unknown role {role}")
    if session is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client, headers


def send(c: Call):
    client, headers = client_for(c)
    url = URLS[c.row.pattern](c)
    if c.row.method == "GET":
        return client.get(url, headers=headers), url
    body = BODIES.get(c.row.pattern, lambda c: {})(c)
    if c.row.pattern.startswith("api:"):
        return client.generic(
            c.row.method, url, json.dumps(body), content_type="application/json", headers=headers
        ), url
    if c.row.method == "POST":
        return client.post(url, body, headers=headers), url
    return client.generic(c.row.method, url, headers=headers), url


def describe(response) -> str:
    location = response.get("Location")
    return f"{response.status_code}" + (f" → {location}" if location else "")


def check(c: Call, response, url: str) -> None:
    expected = c.row.expected
    what = f"{c.row.method} {url} as {c.row.role} ({c.state}): got {describe(response)}"
    if expected == "login":
        sign_in = resolve_url(settings.LOGIN_URL)
        location = urlsplit(response.get("Location", ""))
        assert response.status_code == 302 and location.path == sign_in, (
            f"{what}, expected a redirect to sign in"
        )
    elif expected == "admin-login":
        location = urlsplit(response.get("Location", ""))
        assert response.status_code == 302 and location.path == reverse("admin:login"), (
            f"{what}, expected a redirect to the admin's sign-in"
        )
    else:
        assert response.status_code == int(expected), f"{what}, expected {expected}"
        if response.status_code == 302:
            # A redirect that lets the role in, not a sign-in in disguise.
            location = urlsplit(response["Location"]).path
            assert location not in (resolve_url(settings.LOGIN_URL), reverse("admin:login")), what


# --- the tests ------------------------------------------------------------------------------

ROWS = [row for row in rows() if row.pattern != ADMIN_GROUP]


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_matrix_row(row: Row, world: World):
    c = Call(world, row)
    with override_settings(**MATRIX_SETTINGS):
        fingerprint = FINGERPRINTS.get(row.pattern) if row.method != "GET" else None
        before = fingerprint(c) if fingerprint else None
        response, url = send(c)
        check(c, response, url)
        if fingerprint and row.expected in REFUSED:
            assert fingerprint(c) == before, f"{row.id}: a refused {row.method} changed {before}"


def admin_pages() -> list[str]:
    """The admin's home and, for each model it registers, its list and its add page."""
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(_superuser_request()):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
    return pages


def _superuser_request():
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return request


ADMIN_ROWS = [row for row in rows() if row.pattern == ADMIN_GROUP]


@pytest.mark.django_db
@pytest.mark.parametrize("row", ADMIN_ROWS, ids=[row.id for row in ADMIN_ROWS])
def test_admin_as_a_whole(row: Row, world: World):
    """The admin's pages, each of them, for one role: the table's admin row holds for all."""
    c = Call(world, row)
    with override_settings(**MATRIX_SETTINGS):
        client, _headers = client_for(c)
        failures = []
        for page in admin_pages():
            response = client.get(page)
            try:
                check(c, response, page)
            except AssertionError as failure:
                failures.append(str(failure))
        assert not failures, "\n".join(failures)


def url_patterns(resolver=None, namespace: tuple = (), prefix: str = "") -> dict[str, str]:
    """Every URL pattern of the site, by its name as `reverse` takes it ("namespace:name";
    "route:<its route>" for one without a name), with its route; Ninja's API and the admin
    included."""
    resolver = resolver or get_resolver()
    found = {}
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace + ((pattern.namespace,) if pattern.namespace else ())
            found |= url_patterns(pattern, inner, route)
        elif isinstance(pattern, URLPattern):
            name = ":".join(namespace + (pattern.name,)) if pattern.name else f"route:{route}"
            found.setdefault(name, route)
    return found


def _in_admin(name: str, route: str) -> bool:
    return name.startswith("admin:") or route.startswith("admin/")


def test_every_url_pattern_is_in_the_table():
    covered = covered_patterns()
    missing = [
        f"{name}  ({route})"
        for name, route in sorted(url_patterns().items())
        if name not in covered and not (_in_admin(name, route) and ADMIN_GROUP in covered)
    ]
    assert not missing, "URL patterns missing from authorization_matrix.TABLE:\n" + "\n".join(
        missing
    )


def test_every_pattern_of_the_table_has_an_address():
    assert covered_patterns() - {ADMIN_GROUP} <= set(URLS)


def test_table_names_only_patterns_that_exist():
    # A renamed pattern must not leave its old rows behind, passing against a 404.
    assert covered_patterns() - {ADMIN_GROUP} <= set(url_patterns())
