"""An organization's audit log, for its administrators, under its settings (/org/<slug>/)."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credshare.audit import selectors
from credshare.network.models import Organization
from credshare.network.views import organization_admin

PAGE_SIZE = 50


@require_GET
@organization_admin
def organization_log(request: HttpRequest, organization: Organization) -> HttpResponse:
    entries = selectors.entries_of_organization(organization=organization)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"organization": organization, "nav": "audit", "page": page}
    return render(request, "audit/organization_log.html", context)
