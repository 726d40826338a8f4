"""Reads for an organization's self-service pages: who may use them, and what they list."""

import uuid

from django.db.models import F, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credshare.accounts.models import Invitation, User
from credshare.api.models import ApiKey
from credshare.network.models import Membership, Organization, ShareField


def membership_or_404(*, user: User, slug: str) -> Membership:
    """USER's membership of the organization SLUG, with the organization, in one query; 404
    for anyone who is not one of its members (the pages do not confirm that it exists)."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def administrators_of(*, organization: Organization) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization=organization, memberships__role=Membership.Role.ADMIN
    ).order_by("full_name", "email")


def share_fields_of(*, organization: Organization) -> QuerySet[ShareField]:
    """Every extra field of ORGANIZATION, retired ones included, in the order learners see."""
    return ShareField.objects.filter(organization=organization).order_by("position", "id")


def share_field_of_organization_or_404(*, organization: Organization, pk: int) -> ShareField:
    return get_object_or_404(ShareField, organization=organization, pk=pk)


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    """ORGANIZATION's members, administrators first, then by name."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("role", "user__full_name", "user__email")
    )


def membership_of_organization_or_404(*, organization: Organization, pk: int) -> Membership:
    return get_object_or_404(members_of(organization=organization), pk=pk)


def pending_staff_invitations_of(*, organization: Organization) -> QuerySet[Invitation]:
    """The invitations to join ORGANIZATION still waiting for an answer (not accepted,
    declined, withdrawn nor expired), newest first, with who sent them."""
    return (
        Invitation.objects.filter(
            invited_by_org=organization,
            purpose=Invitation.Purpose.JOIN_ORGANIZATION,
            accepted_at=None,
            declined_at=None,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created", "-id")
    )


def staff_invitation_of_organization_or_404(*, organization: Organization, pk: int) -> Invitation:
    """One of ORGANIZATION's invitations to join it, whatever became of it; 404 for another
    organization's or another kind of invitation."""
    return get_object_or_404(
        Invitation,
        invited_by_org=organization,
        purpose=Invitation.Purpose.JOIN_ORGANIZATION,
        pk=pk,
    )


def api_keys_of(*, organization: Organization) -> QuerySet[ApiKey]:
    """ORGANIZATION's API keys, revoked ones included, newest first, with who made them."""
    return (
        ApiKey.objects.filter(organization=organization)
        .select_related("created_by")
        .order_by("-created", "-id")
    )


def api_key_of_organization_or_404(*, organization: Organization, public_id: uuid.UUID) -> ApiKey:
    return get_object_or_404(api_keys_of(organization=organization), public_id=public_id)


def organizations_of_request_user(request) -> list[Organization]:
    """The organizations the signed-in user is a member of, by name, each with its
    `member_role`; none for a visitor. Read once a request and kept on it: the header's links
    (core.context_processors.navigation) and the inbox both need them."""
    cached = getattr(request, "_credshare_member_organizations", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = []
        if user is not None and user.is_authenticated:
            cached = list(
                Organization.objects.filter(memberships__user=user)
                .only("slug", "name_en", "name_fr", "is_issuer", "is_receiver")
                .annotate(member_role=F("memberships__role"))
                .order_by("name_en")
            )
        request._credshare_member_organizations = cached
    return cached
