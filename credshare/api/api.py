"""The REST API, mounted at /api/v1/: its OpenAPI schema at /api/v1/openapi.json, its docs
page (Swagger UI, served from Ninja's bundled static files: no CDN) at /api/v1/docs."""

import functools

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger

from credshare.api import issuing, receiving
from credshare.api.errors import error_response, install_exception_handlers, not_found_response
from credshare.api.openapi import describe_errors, description


def _json_errors(view):
    """Ninja answers some requests outside its operations: an unknown method (405) and its
    root address (404). Give those the API's error shape too, and keep every answer out of
    caches."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found_response()
        if isinstance(response, HttpResponseNotAllowed):
            return error_response(
                405,
                "method_not_allowed",
                _("This address does not take the %(method)s method.") % {"method": request.method},
                headers={"Allow": response["Allow"]},
            )
        # Shares and documents are personal data: no cache keeps an answer.
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

    return wrapped


@csrf_exempt
def _unknown_address(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return not_found_response()


class CredshareAPI(NinjaAPI):
    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            pattern.callback = _json_errors(pattern.callback)
        # Last: any other address under the API's prefix is a 404 in the error shape (not the
        # site's HTML page, nor a redirect to an address with a slash).
        urls.append(re_path(r"^.*$", _unknown_address, name="unknown"))
        return urls

    def get_openapi_operation_id(self, operation) -> str:
        # The view's name (share_list, document_issue, …): short, and unique in this API.
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return describe_errors(schema)


api = CredshareAPI(
    title="credshare API",
    version="1",
    description=description(),
    urls_namespace="api",
    docs=Swagger(settings={"persistAuthorization": False, "validatorUrl": None}),
)
install_exception_handlers(api)
api.add_router("", receiving.router)
api.add_router("", issuing.documents_router)
api.add_router("", issuing.jobs_router)
