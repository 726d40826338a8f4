import functools

from django.db.models import F
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from credshare.network.models import Membership, Organization


def navigation(request: HttpRequest) -> dict:
    """What the header links to for an organization's members: the inbox (members of a
    receiving organization), each issuing organization's billing pages (its members) and
    each organization's settings (its administrators). Lazy, so pages that do not render
    the header pay no query; one query for all."""
    user = getattr(request, "user", None)

    @functools.cache
    def organizations() -> list[Organization]:
        if not (user and user.is_authenticated):
            return []
        return list(
            Organization.objects.filter(memberships__user=user)
            .only("slug", "name_en", "name_fr", "is_issuer", "is_receiver")
            .annotate(member_role=F("memberships__role"))
            .order_by("name_en")
        )

    def staffs_a_receiver() -> bool:
        return any(organization.is_receiver for organization in organizations())

    def issuers_staffed() -> list[Organization]:
        return [organization for organization in organizations() if organization.is_issuer]

    def administered() -> list[Organization]:
        return [o for o in organizations() if o.member_role == Membership.Role.ADMIN]

    return {
        "shows_inbox": SimpleLazyObject(staffs_a_receiver),
        "issuer_organizations": SimpleLazyObject(issuers_staffed),
        "admin_organizations": SimpleLazyObject(administered),
    }
