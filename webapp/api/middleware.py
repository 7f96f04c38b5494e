"""Request-size guard and the Content-Security-Policy header."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.errors import error_response

log = logging.getLogger("api")

DRAIN_CHUNK = 64 * 1024


def drain(request: HttpRequest, length: int) -> int:
    """Read and discard up to TUBETAGS_DRAIN_MAX_BYTES of an unwanted body; returns the bytes read.

    Why: a server that answers and closes while the client is still sending leaves unread data in
    its socket, so the kernel resets the connection, and clients that send the whole body before
    reading (urllib, requests) report the reset, never the answer. Bounded in bytes and time so a
    huge or trickling upload cannot hold a worker; gunicorn closes the connection if it is left
    unfinished.
    """
    stream = request.META.get("wsgi.input")
    if stream is None:
        return 0
    budget = min(length, settings.TUBETAGS_DRAIN_MAX_BYTES)
    deadline = time.monotonic() + settings.TUBETAGS_DRAIN_MAX_S
    read = 0
    try:
        while read < budget and time.monotonic() < deadline:
            chunk = stream.read(min(DRAIN_CHUNK, budget - read))
            if not chunk:
                break
            read += len(chunk)
    except OSError as exc:  # the client gave up
        log.info("draining an oversized body stopped after %d bytes: %s", read, exc)
    return read


def request_limit(request: HttpRequest) -> int:
    """Bytes a request body may have: a video upload (POST /api/jobs) has its own, larger limit."""
    if request.path == "/api/jobs":
        return settings.TUBETAGS_JOBS_MAX_REQUEST_BYTES
    return settings.TUBETAGS_MAX_REQUEST_BYTES


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Refuse oversized bodies from the Content-Length header alone, before anything parses them.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "Content-Length header is not a number.")
        limit = request_limit(request)
        if length > limit:
            drained = drain(request, length)
            response = error_response(
                413, f"Request body is {length} bytes; the limit is {limit} bytes.", limit_bytes=limit
            )
            if drained < length:
                log.info(
                    "413 for a %d-byte body; %d bytes drained, the rest is dropped with the connection", length, drained
                )
            return response
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
