"""Every error the app returns is JSON: {"error": "<what was wrong>", ...details}.

Three layers keep that contract on /api/ paths, whatever the cause:
- `exception_handler`: DRF's hook, for everything raised inside an API view;
- `handler400/403/404/500`: Django's handlers, for unknown paths and bugs outside views (DEBUG off);
- `JsonErrorsMiddleware` (outermost): turns any remaining non-JSON 4xx/5xx on /api/ (Django's DEBUG
  pages, a 413 from the size guard, errors raised by other middleware) into the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger("api")


def error_response(status: int, message: str, **details: Any) -> JsonResponse:
    return JsonResponse({"error": message, **details}, status=status)


class ApiError(Exception):
    """Raised inside views; turned into `error_response(status, message, **details)`."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """DRF's nested error detail -> ["k: Ensure this value is ...", ...]."""
    if isinstance(detail, dict):
        return [
            m
            for key, value in detail.items()
            for m in _flatten(value, f"{prefix}{key}: " if key != "non_field_errors" else prefix)
        ]
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    if isinstance(exc, ApiError):
        response = error_response(exc.status, exc.message, **exc.details)
        if "retry_after_s" in exc.details:
            response["Retry-After"] = str(exc.details["retry_after_s"])
        return response
    if isinstance(exc, exceptions.ParseError):
        return error_response(400, f"Request body could not be parsed: {exc.detail}")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(
            415, f"{exc.detail} Send application/json or multipart/form-data (a subtitle file in field 'file')."
        )
    if isinstance(exc, exceptions.ValidationError):
        return error_response(400, "; ".join(_flatten(exc.detail)), fields=exc.detail)
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, f"Request body over the limit: {exc}")
    if isinstance(exc, SuspiciousOperation):  # e.g. TooManyFilesSent: two `file` parts in one multipart body
        log.warning("refused request: %s: %s", type(exc).__name__, exc)
        return error_response(400, f"Bad request: {exc}")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's handler500 answers (still JSON)
    return error_response(response.status_code, "; ".join(_flatten(response.data.get("detail", response.data))))


# Django-level handlers (404 for unknown paths, 400 for SuspiciousOperation, 500 for bugs).
def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Never the exception's text: Django's can hold server paths (a `/static/..` traversal names the folder)."""
    if isinstance(exception, DisallowedHost):
        return error_response(400, "Bad request: this server does not answer to that Host header.")
    return error_response(400, "Bad request.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(403, "Forbidden.")


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """CSRF_FAILURE_VIEW: JSON like every other error (the API and /metrics are exempt: nothing to forge)."""
    return error_response(403, "Forbidden: this request needs a CSRF token.")


def method_not_allowed(request: HttpRequest, *allowed: str) -> JsonResponse:
    response = error_response(405, f"Method {request.method} not allowed here; allowed: {', '.join(allowed)}.")
    response["Allow"] = ", ".join(allowed)
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404, f"No such endpoint: {request.path}. See /api/schema.")


def handler500(request: HttpRequest) -> JsonResponse:
    return error_response(500, "Internal server error; it has been logged.")


def _is_api(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


class JsonErrorsMiddleware:
    """Outermost middleware: a 4xx/5xx on /api/ that is not JSON yet becomes {"error": ...}.

    Django answers some errors itself, before or around our handlers (the DEBUG 404/500 pages
    of `make serve`, SuspiciousOperation in DEBUG); API clients must still get JSON.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not _is_api(request):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            replacement = handler404(request)
        elif response.status_code >= 500:
            replacement = error_response(response.status_code, "Internal server error; it has been logged.")
        else:
            replacement = error_response(response.status_code, f"{response.reason_phrase}.")
        for name, value in response.items():  # keep Allow, Retry-After, security headers
            if name.lower() not in {"content-type", "content-length"}:
                replacement[name] = value
        return replacement
