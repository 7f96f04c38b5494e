"""Prometheus metrics, served at /metrics in the text exposition format.

Under gunicorn each worker is a process: gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh
folder before the workers start, each worker writes its values there (prometheus_client's multiprocess
mode), /metrics adds them up, and the `child_exit` hook drops the live gauges of a dead worker. Without
that variable (tests, `manage.py runserver`) the process's own registry is served.

Series:
  tubetags_http_requests_total{route, method, status}         requests answered
  tubetags_http_request_duration_seconds{route, method}       latency histogram (whole request in Django)
  tubetags_model_info{name, version, strategy, alias}         1 for the model each alias serves (0: an old one)
  tubetags_prediction_cache_total{result="hit"|"miss"}        prediction cache lookups
  tubetags_prediction_duration_seconds{alias}                 model time on cache misses
`route` is the URL pattern ("/api/tags"), never the raw path, so unknown paths cannot grow the series.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from api.errors import error_response

REQUESTS = Counter(
    "tubetags_http_requests",
    "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "tubetags_http_request_duration_seconds",
    "Time to answer a request, by route pattern.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)
MODEL_INFO = Gauge(
    "tubetags_model_info",
    "1 for the model version each served alias points at in a live worker.",
    ["name", "version", "strategy", "alias"],
    multiprocess_mode="livemax",
)
PREDICTION_CACHE = Counter("tubetags_prediction_cache", "Prediction cache lookups, by result.", ["result"])
PREDICTION_SECONDS = Histogram(
    "tubetags_prediction_duration_seconds",
    "Model time of a prediction (cache misses).",
    ["alias"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)

_served: dict[str, tuple[str, str, str, str]] = {}  # alias -> labels last set to 1 in this process
_served_lock = threading.Lock()


def observe_model(info: dict[str, str]) -> None:
    """Record which model an alias serves; an alias moved to another version sets its old series to 0."""
    labels = (info["name"], info["version"], info["strategy"], info["alias"])
    with _served_lock:
        previous = _served.get(info["alias"])
        if previous == labels:
            return
        if previous is not None:
            MODEL_INFO.labels(*previous).set(0)
        MODEL_INFO.labels(*labels).set(1)
        _served[info["alias"]] = labels


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return "/" + match.route if match is not None else "unmatched"


class MetricsMiddleware:
    """Outermost: counts every request with the status the client finally gets, and times it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route, method = route_of(request), request.method or "?"
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        return response


def _allowed(request: HttpRequest) -> bool:
    """With TUBETAGS_METRICS_TOKEN set, a matching `Authorization: Bearer` header; else loopback clients.

    Behind the proxy (TUBETAGS_CLIENT_IP_HEADER, e.g. nginx's X-Real-IP, which it always sets) the client is
    the address in that header. Without one, a request relayed by a proxy on this host also comes from
    loopback: one carrying a forwarding header is not taken for local.
    """
    token = settings.TUBETAGS_METRICS_TOKEN
    if token:
        return secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}")
    trusted = getattr(settings, "RATELIMIT_IP_META_KEY", None)
    if trusted:
        client = request.META.get(trusted, "")
    elif any(h in request.headers for h in ("X-Forwarded-For", "X-Real-IP", "Forwarded")):
        return False
    else:
        client = request.META.get("REMOTE_ADDR", "")
    try:
        return ipaddress.ip_address(client.strip()).is_loopback
    except ValueError:
        return False


@csrf_exempt  # no cookies: any other method gets this view's JSON 405, not the CSRF middleware's HTML 403
def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        response = error_response(405, f"Method {request.method} not allowed: GET /metrics.")
        response["Allow"] = "GET"
        return response
    if not _allowed(request):
        return error_response(403, "Metrics are served to loopback clients, or with TUBETAGS_METRICS_TOKEN.")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
