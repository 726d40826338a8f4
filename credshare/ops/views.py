import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from credshare.ops import health as health_checks
from credshare.ops import metrics as metrics_export


@require_safe
@never_cache
def health(request):
    """Readiness: the database, cache, queue and storage, each probed once (no sign-in, so a
    load balancer can ask). 200 when every check in use passes, 503 otherwise."""
    checks = health_checks.run_checks()
    status = health_checks.overall_status(checks)
    return JsonResponse(
        {"status": status, "checks": {name: check.as_dict() for name, check in checks.items()}},
        status=200 if status == "ok" else 503,
    )


@require_safe
@never_cache
def live(request):
    """Liveness: the process answers. No dependency is touched, so an outage of the database
    does not get every web process restarted."""
    return JsonResponse({"status": "ok"})


def _may_read_metrics(request) -> bool:
    token = settings.CREDSHARE_METRICS_TOKEN
    if token:
        authorization = request.headers.get("Authorization", "")
        scheme, _, offered = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            offered.strip().encode(), token.encode()
        )
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_safe
@never_cache
def metrics(request):
    """Prometheus metrics: with CREDSHARE_METRICS_TOKEN set, for `Authorization: Bearer
    <token>` only; without it, for loopback clients only. Anyone else gets a 404, as if
    there were no such page."""
    if not _may_read_metrics(request):
        raise Http404
    body, content_type = metrics_export.render()
    return HttpResponse(body, content_type=content_type)
