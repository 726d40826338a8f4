from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from credshare.network.models import Membership, Organization
from credshare.network.selectors import organizations_of_request_user


def navigation(request: HttpRequest) -> dict:
    """What the header links to for an organization's members: the inbox (members of a
    receiving organization), each issuing organization's billing pages (its members) and
    each organization's settings (its administrators). Lazy, so pages that do not render
    the header pay no query; one query for all, kept on the request for the views."""

    def organizations() -> list[Organization]:
        return organizations_of_request_user(request)

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
