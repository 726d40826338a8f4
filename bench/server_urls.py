"""The product's URLs plus one trivial view: what the Django stack costs without any work of
ours, the yardstick bench/load.py sets opening a share beside. Benchmark only."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from credshare.urls import urlpatterns as product_urlpatterns

BARE_PATH = "bench/bare/"


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path(BARE_PATH, bare, name="bench_bare"), *product_urlpatterns]
