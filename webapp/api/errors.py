"""Every error the app returns is JSON: {"error": "<what was wrong>", ...details}."""

from __future__ import annotations

import logging

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger("api")


def error_response(status: int, message: str, **details) -> JsonResponse:
    return JsonResponse({"error": message, **details}, status=status)


class ApiError(Exception):
    """Raised inside views; turned into `error_response(status, message, **details)`."""

    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def _flatten(detail, prefix: str = "") -> list[str]:
    """DRF's nested error detail -> ["k: Ensure this value is ...", ...]."""
    if isinstance(detail, dict):
        return [m for key, value in detail.items() for m in _flatten(value, f"{prefix}{key}: " if key != "non_field_errors" else prefix)]
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


def exception_handler(exc, context):
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
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's handler500 answers (still JSON)
    return error_response(response.status_code, "; ".join(_flatten(response.data.get("detail", response.data))))


# Django-level handlers (404 for unknown paths, 400 for SuspiciousOperation, 500 for bugs).
def handler400(request, exception=None):
    return error_response(400, f"Bad request: {exception}" if exception else "Bad request.")


def handler403(request, exception=None):
    return error_response(403, "Forbidden.")


def handler404(request, exception=None):
    return error_response(404, f"No such endpoint: {request.path}. See /api/schema.")


def handler500(request):
    return error_response(500, "Internal server error; it has been logged.")
