"""Writes of an organization's self-service: its directory profile, an issuer's branding, the
extra fields it asks of learners, its members and the invitations to join it. Every change is
made by one of its administrators (`by`), except joining, which only the invited person's
acceptance does."""

import datetime
import logging

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from credshare.accounts.models import Invitation, User
from credshare.accounts.services import invitation_revoke, invitation_send
from credshare.audit.models import Event as AuditEvent
from credshare.audit.services import audit_record
from credshare.core.errors import ApplicationError
from credshare.network import branding
from credshare.network.models import Membership, Organization, ShareField
from credshare.network.names import name_key
from credshare.network.selectors import pending_staff_invitations_of

logger = logging.getLogger(__name__)

KEY_MAX_LENGTH = ShareField._meta.get_field("key").max_length
# An invitation to a staff role is a door into the organization's inbox and settings: it
# stays open a week, not the month of an invitation to claim one's documents.
STAFF_INVITATION_LIFETIME = datetime.timedelta(days=7)


# The directory profile ---------------------------------------------------------------------


def organization_names_check(
    *, name_en: str, name_fr: str, organization: Organization | None = None
) -> None:
    """Refuse names (ApplicationError on the field) that are empty once read as people read
    them, or that read as another organization's name in either language (names.name_key:
    capitals, accents, Unicode spellings, spacing and punctuation aside). ORGANIZATION is
    the one being renamed, if any. The database's unique keys are the last word when two
    organizations take a name at once (same language); this check also covers a name taken
    in the other language."""
    keys = {}
    for field, name, message in (
        ("name_en", name_en, _("Enter the name in English.")),
        ("name_fr", name_fr, _("Enter the name in French.")),
    ):
        keys[field] = name_key(name)
        if not keys[field]:
            raise ApplicationError(message, code="required", field=field)
    others = Organization.objects.all()
    if organization is not None and organization.pk is not None:
        others = others.exclude(pk=organization.pk)
    for field, key in keys.items():
        if others.filter(Q(name_key_en=key) | Q(name_key_fr=key)).exists():
            raise ApplicationError(_name_taken_message(), code="name_taken", field=field)


def _name_taken_message() -> str:
    return _(
        "Another organization already has this name, or one that differs only by capitals, "
        "accents, spaces or punctuation. Choose a name that tells yours apart."
    )


def organization_profile_update(
    *,
    organization: Organization,
    by: User,
    name_en: str,
    name_fr: str,
    description_en: str = "",
    description_fr: str = "",
    website: str = "",
    contact_email: str = "",
) -> Organization:
    """What learners read about ORGANIZATION in the directory of the share window. A new
    name (one that reads differently) must be approved by the platform again: until then
    the organization leaves the directory, so that an approved organization cannot become
    another one by renaming itself."""
    name_en, name_fr = name_en.strip(), name_fr.strip()
    organization_names_check(name_en=name_en, name_fr=name_fr, organization=organization)
    renamed = (name_key(name_en), name_key(name_fr)) != (
        organization.name_key_en,
        organization.name_key_fr,
    )
    organization.name_en = name_en
    organization.name_fr = name_fr
    organization.description_en = description_en.strip()
    organization.description_fr = description_fr.strip()
    organization.website = website.strip()
    organization.contact_email = contact_email.strip().lower()
    if renamed:
        organization.approved_at = None
    try:
        with transaction.atomic():
            organization.save(
                update_fields=[
                    "name_en",
                    "name_fr",
                    "description_en",
                    "description_fr",
                    "website",
                    "contact_email",
                    "approved_at",
                ]
            )
    except IntegrityError:
        # Another organization took the name between the check and the save.
        organization.refresh_from_db()
        raise ApplicationError(_name_taken_message(), code="name_taken", field="name_en") from None
    logger.info("organization %s: profile changed by user %s", organization.pk, by.pk)
    return organization


def organizations_approve(*, organizations: QuerySet[Organization], by: User) -> int:
    """A platform administrator approves ORGANIZATIONS (those not approved yet): they enter
    the directory, if listed. Returns how many were approved."""
    approved = organizations.filter(approved_at=None).update(approved_at=timezone.now())
    logger.info("%d organizations approved by user %s", approved, by.pk)
    return approved


# An issuer's branding ----------------------------------------------------------------------


def _logo_bytes(upload: UploadedFile) -> bytes:
    """The upload's bytes, one past the limit at most: enough to refuse a huge file without
    reading it into memory."""
    upload.seek(0)
    return upload.read(branding.MAX_LOGO_BYTES + 1)


@transaction.atomic
def organization_branding_update(
    *,
    organization: Organization,
    by: User,
    primary_color: str = "",
    accent_color: str = "",
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> Organization:
    """ORGANIZATION's colours (empty: the defaults) and logo on the transcripts it renders:
    LOGO replaces the current one, REMOVE_LOGO drops it. A refused logo or colour changes
    nothing and stores nothing; a replaced logo's file is deleted once the change commits
    (transcripts already issued embed their own copy)."""
    if not organization.is_issuer:
        raise ApplicationError(
            _("Only an organization that issues documents has a logo on them."), code="not_issuer"
        )
    primary_color = branding.color_clean(
        primary_color, default=branding.DEFAULT_PRIMARY_COLOR, field="primary_color"
    )
    accent_color = branding.color_clean(
        accent_color, default=branding.DEFAULT_ACCENT_COLOR, field="accent_color"
    )
    logo_format = None
    if logo is not None:
        data = _logo_bytes(logo)
        logo_format, _image = branding.logo_decode(data)
    # Locked and read again, so that of two admins changing the logo at once, the second
    # replaces (and deletes) the file the first stored, not the one it had seen.
    _lock_organization(organization.pk)
    old_logo = Organization.objects.values_list("logo", flat=True).get(pk=organization.pk)
    organization.primary_color = primary_color
    organization.accent_color = accent_color
    organization.logo.name = old_logo
    if logo_format is not None:
        organization.logo.save(f"logo.{logo_format.extension}", ContentFile(data), save=False)
    elif remove_logo:
        organization.logo = ""
    try:
        organization.save(update_fields=["primary_color", "accent_color", "logo"])
    except Exception:
        if logo_format is not None:
            organization.logo.storage.delete(organization.logo.name)
        raise
    if old_logo and old_logo != organization.logo.name:
        storage = organization.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    logger.info("organization %s: branding changed by user %s", organization.pk, by.pk)
    return organization


# Extra share fields ------------------------------------------------------------------------
# Field and member changes lock the organization's row first (one order, no deadlock).


def _lock_organization(organization_id: int) -> None:
    """Serialize changes of an organization's fields, or of its members. For members: with the
    row locked, "is there another administrator?" stays true until the change commits, so
    two admins demoting each other at once cannot both succeed (the second one waits, then
    finds itself the last)."""
    locked = Organization.objects.select_for_update(no_key=True).filter(pk=organization_id)
    locked.values_list("pk").get()


def _locked_fields(organization_id: int) -> list[ShareField]:
    """The organization's fields in their order, with the organization locked, so that two
    admins adding or moving fields at once cannot give two fields one position or one key
    (the organization's row, since an organization with no field has no row to lock)."""
    _lock_organization(organization_id)
    fields = ShareField.objects.filter(organization_id=organization_id)
    return list(fields.order_by("position", "id"))


def _renumber(fields: list[ShareField]) -> None:
    """Positions 1..n in list order, saving only the fields whose position changed."""
    for position, field in enumerate(fields, start=1):
        if field.position != position:
            field.position = position
            field.save(update_fields=["position"])


def _unique_key(label_en: str, taken: set[str]) -> str:
    """A key from the English label (`application_number` for "Application number"), with a
    number added when another field of the organization, retired or not, already has it:
    old shares keep their values under the key, so a key is never reused."""
    base = slugify(label_en).replace("-", "_")[: KEY_MAX_LENGTH - 4].strip("_") or "field"
    key, number = base, 2
    while key in taken:
        key = f"{base}_{number}"
        number += 1
    return key


def _choice_values(choices: list[dict], previous: list[dict]) -> list[dict]:
    """Give each choice ({label_en, label_fr}) its stored value. A choice keeps the value it
    had when one of its labels is unchanged, so that old shares still show its label; a new
    choice gets a value from its English label, never one that a kept choice has."""
    by_en = {c.get("label_en"): c["value"] for c in previous}
    by_fr = {c.get("label_fr"): c["value"] for c in previous}
    kept = [by_en.get(c["label_en"]) or by_fr.get(c["label_fr"]) for c in choices]
    result, taken = [], {value for value in kept if value}
    assigned = set()
    for choice, value in zip(choices, kept, strict=True):
        if value is None or value in assigned:
            value = _unique_key(choice["label_en"] or choice["label_fr"], taken)
        taken.add(value)
        assigned.add(value)
        result.append(
            {"value": value, "label_en": choice["label_en"], "label_fr": choice["label_fr"]}
        )
    return result


def _check_field(*, label_en: str, label_fr: str, field_type: str, choices: list[dict]) -> None:
    if not label_en.strip():
        raise ApplicationError(_("Enter the label in English."), code="required", field="label_en")
    if not label_fr.strip():
        raise ApplicationError(_("Enter the label in French."), code="required", field="label_fr")
    if field_type not in ShareField.FieldType.values:
        raise ApplicationError(
            _("Choose a type from the list."), code="bad_type", field="field_type"
        )
    if field_type == ShareField.FieldType.CHOICE and not choices:
        raise ApplicationError(
            _("A choice field needs at least one choice."), code="no_choices", field="choices"
        )


@transaction.atomic
def share_field_create(
    *,
    organization: Organization,
    by: User,
    label_en: str,
    label_fr: str,
    field_type: str = ShareField.FieldType.TEXT,
    help_en: str = "",
    help_fr: str = "",
    required: bool = False,
    choices: list[dict] | None = None,
) -> ShareField:
    """A new extra field, last in the order. CHOICES (a choice field only) are
    {label_en, label_fr} dicts; their values are made here."""
    choices = choices or []
    _check_field(label_en=label_en, label_fr=label_fr, field_type=field_type, choices=choices)
    fields = _locked_fields(organization.pk)
    _renumber(fields)
    field = ShareField.objects.create(
        organization=organization,
        key=_unique_key(label_en, {f.key for f in fields}),
        label_en=label_en.strip(),
        label_fr=label_fr.strip(),
        help_en=help_en.strip(),
        help_fr=help_fr.strip(),
        field_type=field_type,
        choices=_choice_values(choices, []) if field_type == ShareField.FieldType.CHOICE else [],
        required=required,
        position=len(fields) + 1,
    )
    logger.info("organization %s: field %s added by user %s", organization.pk, field.key, by.pk)
    return field


@transaction.atomic
def share_field_update(
    *,
    field: ShareField,
    by: User,
    label_en: str,
    label_fr: str,
    help_en: str = "",
    help_fr: str = "",
    required: bool = False,
    choices: list[dict] | None = None,
) -> ShareField:
    """Change a field's labels, help, choices and whether it is required. Its key and type
    stay: past shares hold values under that key, made for that type."""
    choices = choices or []
    _check_field(label_en=label_en, label_fr=label_fr, field_type=field.field_type, choices=choices)
    field.label_en = label_en.strip()
    field.label_fr = label_fr.strip()
    field.help_en = help_en.strip()
    field.help_fr = help_fr.strip()
    field.required = required
    if field.field_type == ShareField.FieldType.CHOICE:
        field.choices = _choice_values(choices, field.choices)
    field.save(update_fields=["label_en", "label_fr", "help_en", "help_fr", "required", "choices"])
    logger.info("field %s changed by user %s", field.pk, by.pk)
    return field


MOVE_UP, MOVE_DOWN = "up", "down"


@transaction.atomic
def share_field_move(*, field: ShareField, direction: str, by: User) -> ShareField:
    """Swap FIELD with the one before it (up) or after it (down); the first field cannot go
    up nor the last one down (no change). Positions are renumbered 1..n on the way."""
    if direction not in (MOVE_UP, MOVE_DOWN):
        raise ApplicationError(_("Move a field up or down."), code="bad_direction")
    fields = _locked_fields(field.organization_id)
    index = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    other = index - 1 if direction == MOVE_UP else index + 1
    if 0 <= other < len(fields):
        fields[index], fields[other] = fields[other], fields[index]
    _renumber(fields)
    return next(f for f in fields if f.pk == field.pk)


def share_field_set_required(*, field: ShareField, required: bool, by: User) -> ShareField:
    """Whether learners must fill FIELD. Shares already made are not affected."""
    ShareField.objects.filter(pk=field.pk).update(required=required)
    field.required = required
    logger.info("field %s required=%s by user %s", field.pk, required, by.pk)
    return field


def share_field_set_active(*, field: ShareField, is_active: bool, by: User) -> ShareField:
    """Retire FIELD (learners no longer see it; past shares keep their values and still show
    them under its label) or bring it back."""
    ShareField.objects.filter(pk=field.pk).update(is_active=is_active)
    field.is_active = is_active
    logger.info("field %s active=%s by user %s", field.pk, is_active, by.pk)
    return field


# Members -----------------------------------------------------------------------------------


def _check_not_last_admin(membership: Membership, *, message: str, code: str) -> None:
    if membership.role != Membership.Role.ADMIN:
        return
    others = (
        Membership.objects.filter(
            organization_id=membership.organization_id, role=Membership.Role.ADMIN
        )
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise ApplicationError(message, code=code, field="role")


def _fresh(membership: Membership) -> Membership:
    """MEMBERSHIP as it is now, read after the lock (another admin may have changed it)."""
    fresh = Membership.objects.select_related("user").filter(pk=membership.pk).first()
    if fresh is None:
        raise ApplicationError(
            _("This person is no longer a member of the organization."), code="not_member"
        )
    return fresh


def _membership_audit_record(
    *, event: str, organization_id: int, target, actor=None, details: dict
) -> None:
    audit_record(
        event=event,
        target=target,
        organizations=[organization_id],
        actor=actor,
        details=details,
    )


@transaction.atomic
def staff_invitation_send(
    *, organization: Organization, email: str, role: str, by: User, language: str | None = None
) -> Invitation:
    """Invite EMAIL to join ORGANIZATION's staff with ROLE: an email with a link (in the
    account's language when the address has one, else LANGUAGE); the person becomes a member
    only by accepting it (accounts.services.invitation_accept). Whether the address has an
    account changes nothing here: the administrator learns nothing about it."""
    if role not in Membership.Role.values:
        raise ApplicationError(_("Choose a role from the list."), code="bad_role", field="role")
    email = email.strip().lower()
    _lock_organization(organization.pk)
    # Only what the staff page already shows: a member's sign-in address.
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ApplicationError(
            _("%(email)s is already a member of the organization.") % {"email": email},
            code="already_member",
            field="email",
        )
    pending = pending_staff_invitations_of(organization=organization).filter(email=email).first()
    if pending is not None:
        raise ApplicationError(
            _(
                "An invitation to %(email)s is waiting for an answer until %(date)s: withdraw "
                "it first to send a new one."
            )
            % {"email": email, "date": date_format(localtime(pending.expires_at), "DATE_FORMAT")},
            code="already_invited",
            field="email",
        )
    invitation = invitation_send(
        email=email,
        purpose=Invitation.Purpose.JOIN_ORGANIZATION,
        invited_by_org=organization,
        invited_by=by,
        role=role,
        language=language,
        lifetime=STAFF_INVITATION_LIFETIME,
    )
    _membership_audit_record(
        event=AuditEvent.MEMBER_INVITED,
        organization_id=organization.pk,
        target=invitation,
        actor=by,
        details={"email": email, "role": role},
    )
    logger.info("organization %s: %s invited by user %s", organization.pk, invitation.pk, by.pk)
    return invitation


@transaction.atomic
def staff_invitation_revoke(*, invitation: Invitation, by: User) -> Invitation:
    """Withdraw an invitation to join the organization while it waits for an answer. Only
    the invitation's row is locked: accepting locks it first, then the organization's, and
    the same order here would be needed to lock both."""
    invitation = invitation_revoke(invitation=invitation)
    _membership_audit_record(
        event=AuditEvent.MEMBER_INVITATION_REVOKED,
        organization_id=invitation.invited_by_org_id,
        target=invitation,
        actor=by,
        details={"email": invitation.email, "role": invitation.role},
    )
    return invitation


def membership_from_invitation(*, invitation: Invitation, user: User) -> Membership | None:
    """USER accepted INVITATION to join its organization (in accounts.invitation_accept's
    transaction): USER becomes a member with the role it offered. A member already keeps
    their role (an invitation neither promotes nor demotes)."""
    organization_id = invitation.invited_by_org_id
    _lock_organization(organization_id)
    role = invitation.role if invitation.role in Membership.Role.values else Membership.Role.STAFF
    membership, created = Membership.objects.get_or_create(
        organization_id=organization_id, user=user, defaults={"role": role}
    )
    _membership_audit_record(
        event=AuditEvent.MEMBER_JOINED,
        organization_id=organization_id,
        target=invitation,
        actor=user,
        details={"email": invitation.email, "role": membership.role, "joined": created},
    )
    logger.info("organization %s: user %s joined from an invitation", organization_id, user.pk)
    return membership


def staff_invitation_declined(*, invitation: Invitation, user: User | None) -> None:
    """Record that the addressee declined INVITATION (in invitation_decline's transaction)."""
    _membership_audit_record(
        event=AuditEvent.MEMBER_INVITATION_DECLINED,
        organization_id=invitation.invited_by_org_id,
        target=invitation,
        actor=user,
        details={"email": invitation.email, "role": invitation.role},
    )


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, by: User) -> Membership:
    """Change a member's role. The organization's last administrator stays one."""
    if role not in Membership.Role.values:
        raise ApplicationError(_("Choose a role from the list."), code="bad_role", field="role")
    _lock_organization(membership.organization_id)
    membership = _fresh(membership)
    if role != Membership.Role.ADMIN:
        _check_not_last_admin(
            membership,
            message=_(
                "The organization needs at least one administrator: make someone else an "
                "administrator first."
            ),
            code="last_admin",
        )
    if membership.role != role:
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        _membership_audit_record(
            event=AuditEvent.MEMBER_ROLE_CHANGED,
            organization_id=membership.organization_id,
            target=membership,
            actor=by,
            details={"email": membership.user.email, "role": role, "previous_role": previous},
        )
        logger.info("membership %s: role %s set by user %s", membership.pk, role, by.pk)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    """Remove a member from the organization. The last administrator cannot be removed."""
    _lock_organization(membership.organization_id)
    membership = _fresh(membership)
    _check_not_last_admin(
        membership,
        message=_(
            "The organization needs at least one administrator: make someone else an "
            "administrator before removing this one."
        ),
        code="last_admin",
    )
    _membership_audit_record(
        event=AuditEvent.MEMBER_REMOVED,
        organization_id=membership.organization_id,
        target=membership,
        actor=by,
        details={"email": membership.user.email, "role": membership.role},
    )
    membership.delete()
    logger.info(
        "organization %s: user %s removed by user %s",
        membership.organization_id,
        membership.user_id,
        by.pk,
    )
