from credshare.audit.services import current_request


class AuditRequestMiddleware:
    """Makes the request being served known to `audit_record`, for its IP, its request id
    and, when a service names no actor, its user or API key (read when an entry is made, so
    the API's key authentication, which runs in the view, is seen)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
