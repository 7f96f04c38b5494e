"""Request-size guard and the Content-Security-Policy header."""

from __future__ import annotations

from django.conf import settings

from api.errors import error_response


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Refuse oversized bodies from the Content-Length header alone, before anything reads them.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "Content-Length header is not a number.")
        if length > settings.TUBETAGS_MAX_REQUEST_BYTES:
            return error_response(
                413, f"Request body is {length} bytes; the limit is {settings.TUBETAGS_MAX_REQUEST_BYTES} bytes.",
                limit_bytes=settings.TUBETAGS_MAX_REQUEST_BYTES,
            )
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
