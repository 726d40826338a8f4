"""Response headers that limit what a page, or a file we serve, may do in the browser.

- Every response gets a Content-Security-Policy without 'unsafe-inline': our pages load
  their scripts and styles from /static/ only, so an injected `<script>` or `style=` does
  nothing. A view that needs more says so with @content_security_policy.
- Every PDF goes out through pdf_file_response: sandboxed, never sniffed, never framed by
  another site, under a name we make.
- safe_next_url keeps `next=` redirects on our own site.

Django's SecurityMiddleware already sends X-Content-Type-Options, Referrer-Policy,
Cross-Origin-Opener-Policy and (production) HSTS; SecurityHeadersMiddleware adds the rest.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify

CSP_HEADER = "Content-Security-Policy"

# The policy of every page. Data URLs for images only: Swagger UI's stylesheet draws icons
# with them; a data: image cannot run script.
PAGE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

# Browser features no page of ours uses, off for our pages and anything they might embed.
# (The clipboard stays: the link share's "Copy" button writes to it.) Only names that
# browsers know: an unknown one is an error in the console.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)


def render_policy(directives: dict[str, Iterable[str]]) -> str:
    return "; ".join(
        f"{name} {' '.join(values)}" if values else name for name, values in directives.items()
    )


def page_policy(overrides: dict[str, Iterable[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """The page policy with this deployment's additions and a view's OVERRIDES.

    With Stripe, the pay buttons post to us and we answer with a redirect to Stripe
    Checkout: Chromium checks form-action against every redirect after a form post, so
    Checkout's origin must be allowed (and only then)."""
    policy = dict(PAGE_POLICY)
    if settings.CREDSHARE_PAYMENT_PROVIDER == "stripe":
        policy["form-action"] = (*policy["form-action"], settings.CREDSHARE_STRIPE_CHECKOUT_ORIGIN)
    for name, values in (overrides or {}).items():
        policy[name] = tuple(values)
    return policy


def content_security_policy(**directives: Iterable[str]) -> Callable:
    """Replace some directives of the page policy for one view, e.g.
    `@content_security_policy(frame_ancestors=["'self'"])` (underscores for dashes)."""
    overrides = {name.replace("_", "-"): tuple(values) for name, values in directives.items()}

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response.csp_overrides = {**getattr(response, "csp_overrides", {}), **overrides}
            return response

        return wrapped

    return decorator


class SecurityHeadersMiddleware:
    """The page policy and Permissions-Policy on every response that has no policy of its
    own (a served PDF sets a stricter one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if CSP_HEADER not in response:
            overrides = getattr(response, "csp_overrides", None)
            response[CSP_HEADER] = render_policy(page_policy(overrides))
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# A served PDF runs nothing and reaches nothing: the browser's viewer draws it, but any
# script, form or link inside it acts in a sandbox with an opaque origin, without our cookies.
PDF_POLICY = "sandbox; default-src 'none'"


def content_disposition(filename: str, *, as_attachment: bool) -> str:
    """RFC 6266: an ASCII fallback, then the UTF-8 name (RFC 8187), both made from FILENAME
    by slugify, so no quote, semicolon, control character or path survives into the header."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    extension = slugify(extension)
    suffix = f".{extension}" if extension else ""
    ascii_name = (slugify(stem) or "file") + suffix
    unicode_name = (slugify(stem, allow_unicode=True) or "file") + suffix
    kind = "attachment" if as_attachment else "inline"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(unicode_name, safe='')}"


def pdf_file_response(
    content: BinaryIO | bytes, *, filename: str, as_attachment: bool, framed_by_us: bool = False
) -> HttpResponse:
    """Every PDF we serve: a learner's document, what a recipient or an API client gets, a
    receipt. Downloads are attachments; a view is inline, still sandboxed, and may be framed
    by our own pages only when FRAMED_BY_US (the learner's document page). Personal data:
    never kept by a shared cache."""
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type="application/pdf")
    else:
        response = FileResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(filename, as_attachment=as_attachment)
    response["X-Content-Type-Options"] = "nosniff"
    frame_ancestors = "'self'" if framed_by_us and not as_attachment else "'none'"
    response[CSP_HEADER] = f"{PDF_POLICY}; frame-ancestors {frame_ancestors}"
    response["X-Frame-Options"] = "SAMEORIGIN" if frame_ancestors == "'self'" else "DENY"
    response["Cache-Control"] = "private, no-store"
    return response


def safe_next_url(request: HttpRequest, url: str | None, fallback: str = "/") -> str:
    """URL if it leads to a page of this site (same host; HTTPS kept under HTTPS), else
    FALLBACK: a `next=` from a link must not send anyone to another site."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback
