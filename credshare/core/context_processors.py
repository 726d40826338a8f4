from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from credshare.sharing.selectors import organizations_staffed_by


def navigation(request: HttpRequest) -> dict:
    """Whether the header shows the inbox: only to members of a receiving organization.
    Lazy, so pages that do not render the header pay no query."""
    user = getattr(request, "user", None)

    def staffs_a_receiver() -> bool:
        return bool(user and user.is_authenticated and organizations_staffed_by(user=user).exists())

    return {"shows_inbox": SimpleLazyObject(staffs_a_receiver)}
