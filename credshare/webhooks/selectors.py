import uuid

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from credshare.network.models import Organization
from credshare.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _uuid_or_404(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def endpoints_of(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    """ORGANIZATION's endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(organization=organization).order_by("created", "pk")


def endpoint_of_organization_or_404(*, organization: Organization, public_id) -> WebhookEndpoint:
    """One of ORGANIZATION's endpoints; another organization's is a 404 like a missing one."""
    endpoint = endpoints_of(organization=organization).filter(public_id=_uuid_or_404(public_id))
    found = endpoint.first()
    if found is None:
        raise Http404
    return found


def _with_attempts(deliveries: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
    return deliveries.select_related("endpoint").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )


def deliveries_of_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """ENDPOINT's deliveries, newest first, each with its attempts (`attempt_log`, in order)
    fetched in one more query for the whole page, not one a row."""
    return _with_attempts(
        WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created", "-pk")
    )


def delivery_of_organization_or_404(*, organization: Organization, public_id) -> WebhookDelivery:
    """One delivery to one of ORGANIZATION's endpoints, with its attempts."""
    found = (
        _with_attempts(WebhookDelivery.objects.filter(endpoint__organization=organization))
        .filter(public_id=_uuid_or_404(public_id))
        .first()
    )
    if found is None:
        raise Http404
    return found
