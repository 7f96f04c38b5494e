"""Settings for the tubetags web app. Everything deploy-specific comes from the environment.

Development:  DJANGO_DEBUG=1 (a fixed dev SECRET_KEY is then allowed).
Production:   DJANGO_DEBUG unset/0, DJANGO_SECRET_KEY set, DJANGO_ALLOWED_HOSTS set,
              DJANGO_HTTPS=1 behind TLS (redirects, HSTS, secure cookies).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from tubetags import drift

BASE_DIR = Path(__file__).resolve().parent.parent  # webapp/


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            'DJANGO_SECRET_KEY is not set. Set it (e.g. `python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"`), or run in development mode with DJANGO_DEBUG=1.'
        )
    SECRET_KEY = "django-insecure-dev-only-key-tubetags-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "rest_framework",
    "drf_spectacular",
    "django_ratelimit",
    "api",
]

MIDDLEWARE = [
    "api.prometheus.MetricsMiddleware",  # outermost: counts the status the client finally gets
    "api.errors.JsonErrorsMiddleware",  # every 4xx/5xx on /api/ is JSON, whoever answered it
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.RequestGuardMiddleware",  # 413 before the body is read
    "django.middleware.common.CommonMiddleware",
    # Kept for any future cookie-authenticated form; the JSON API uses no cookies, so it is exempt.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tubetags_site.urls"
WSGI_APPLICATION = "tubetags_site.wsgi.application"
APPEND_SLASH = False  # API paths have no trailing slash; never redirect a POST

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES: dict = {}  # the model registry is MLflow's; Django stores nothing

# Two caches, both shared by the gunicorn workers: "default" holds the rate limiter's counters,
# "predictions" the answers (api/tagging.py). A per-host file cache by default (no extra service);
# TUBETAGS_CACHE_URL=redis://host:6379/0 puts both in Redis, shared across hosts too.
TUBETAGS_CACHE_URL = os.environ.get("TUBETAGS_CACHE_URL", "").strip()
TUBETAGS_PREDICTION_CACHE_TTL_S = int(os.environ.get("TUBETAGS_PREDICTION_CACHE_TTL_S", 24 * 3600))  # 0: off
TUBETAGS_PREDICTION_CACHE_ENTRIES = int(os.environ.get("TUBETAGS_PREDICTION_CACHE_ENTRIES", 2000))  # file cache
_CACHE_DIR = Path(
    os.environ.get("TUBETAGS_CACHE_DIR", "") or Path(tempfile.gettempdir()) / f"tubetags-cache-{os.getuid()}"
)
if TUBETAGS_CACHE_URL:
    if not TUBETAGS_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"TUBETAGS_CACHE_URL must be a redis://, rediss:// or unix:// URL, not {TUBETAGS_CACHE_URL!r}."
        )
    _REDIS = "django.core.cache.backends.redis.RedisCache"
    CACHES = {
        "default": {"BACKEND": _REDIS, "LOCATION": TUBETAGS_CACHE_URL, "KEY_PREFIX": "tubetags-rate"},
        "predictions": {
            "BACKEND": _REDIS,
            "LOCATION": TUBETAGS_CACHE_URL,
            "KEY_PREFIX": "tubetags-pred",
            "TIMEOUT": max(TUBETAGS_PREDICTION_CACHE_TTL_S, 1),
        },
    }
else:
    _FILES = "django.core.cache.backends.filebased.FileBasedCache"
    CACHES = {
        "default": {"BACKEND": _FILES, "LOCATION": str(_CACHE_DIR)},
        # Its own folder: culling (every set past MAX_ENTRIES lists the folder) must not drop rate counters.
        "predictions": {
            "BACKEND": _FILES,
            "LOCATION": str(_CACHE_DIR / "predictions"),
            "TIMEOUT": max(TUBETAGS_PREDICTION_CACHE_TTL_S, 1),
            "OPTIONS": {"MAX_ENTRIES": TUBETAGS_PREDICTION_CACHE_ENTRIES},
        },
    }
# django-ratelimit wants memcached/redis for exact, atomic counts. A file cache shared by one
# host's workers can let a concurrent burst exceed the limit by a few requests: acceptable for
# abuse protection, and it needs no extra service. Set TUBETAGS_CACHE_URL (Redis) to be exact.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# "60/m" per client IP on POST /api/tags; "off" disables (tests, benchmarks).
TUBETAGS_RATE_LIMIT = os.environ.get("TUBETAGS_RATE_LIMIT", "60/m")
RATELIMIT_ENABLE = TUBETAGS_RATE_LIMIT.strip().lower() not in {"", "0", "off", "none"}
# Behind a reverse proxy REMOTE_ADDR is the proxy: name the header it sets, e.g. HTTP_X_REAL_IP.
if os.environ.get("TUBETAGS_CLIENT_IP_HEADER"):
    RATELIMIT_IP_META_KEY = os.environ["TUBETAGS_CLIENT_IP_HEADER"]

# Input limits (documented in docs/serving.md and in the OpenAPI schema).
TUBETAGS_MAX_TRANSCRIPT_CHARS = int(os.environ.get("TUBETAGS_MAX_TRANSCRIPT_CHARS", 200_000))
TUBETAGS_MAX_UPLOAD_BYTES = int(os.environ.get("TUBETAGS_MAX_UPLOAD_BYTES", 2 * 1024 * 1024))
# Whole request body: a 200,000-character transcript is up to ~1.2 MB as escaped JSON.
TUBETAGS_MAX_REQUEST_BYTES = TUBETAGS_MAX_UPLOAD_BYTES + 1024 * 1024
TUBETAGS_MAX_K = 50
# Fewer real words than this (markup, emoji, digits, symbols left out) is a 422, not invented tags.
TUBETAGS_MIN_WORDS = int(os.environ.get("TUBETAGS_MIN_WORDS", 5))
# A body over the limit is answered 413 without parsing, but read and thrown away first (up to this
# many bytes, for at most TUBETAGS_DRAIN_MAX_S): a client still sending (urllib, requests) would
# otherwise get "connection reset"/"broken pipe" instead of the 413. Bigger bodies: 413, then close.
TUBETAGS_DRAIN_MAX_BYTES = int(os.environ.get("TUBETAGS_DRAIN_MAX_BYTES", 16 * 1024 * 1024))
TUBETAGS_DRAIN_MAX_S = float(os.environ.get("TUBETAGS_DRAIN_MAX_S", 10))
DATA_UPLOAD_MAX_MEMORY_SIZE = TUBETAGS_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = TUBETAGS_MAX_REQUEST_BYTES  # uploads stay in memory, no temp files
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
DATA_UPLOAD_MAX_NUMBER_FILES = 1

# Drift monitoring: one privacy-safe JSON line per answered request (api/request_log.py); "off" disables.
TUBETAGS_MONITOR_DIR = str(drift.monitor_dir())  # TUBETAGS_MONITOR_DIR, else <work dir>/monitoring; "off"
# /metrics (Prometheus): loopback clients only, unless this token is set (then `Authorization: Bearer <token>`).
TUBETAGS_METRICS_TOKEN = os.environ.get("TUBETAGS_METRICS_TOKEN", "")

# Registry: which registered model, and how long an alias -> version lookup is trusted
# (so a promotion is picked up without a restart).
TUBETAGS_ALIAS_TTL_S = float(os.environ.get("TUBETAGS_ALIAS_TTL_S", 30))

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    # No users, sessions or cookies: nothing to authenticate, so no CSRF token is involved.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "tubetags API",
    "DESCRIPTION": "YouTube tags, ranked with scores, from a video's transcript or subtitle file.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

STATIC_URL = "/static/"
STATIC_DIR = BASE_DIR / "static"  # served by the app itself: two small files, no collectstatic

# Security headers. HTTPS settings apply when TLS is in front (DJANGO_HTTPS=1).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31_536_000)) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_SECURE = HTTPS
if env_bool("DJANGO_BEHIND_PROXY", False):  # trust X-Forwarded-Proto from the TLS proxy
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "api.errors.csrf_failure"  # JSON, like every other error
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Only our own script and styles run on the demo page (the API output is data, never markup).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

USE_TZ = True
TIME_ZONE = "UTC"  # Django's default is America/Chicago, which it also sets as the workers' process time zone
LANGUAGE_CODE = "en"

# One console handler (stderr: gunicorn's error log) on the root, so every message is written once: the app's
# (`api`) and the library's (`tubetags.*`: model loading, language detection, ...) from TUBETAGS_LOG_LEVEL, the
# rest from WARNING. Django's loggers lose their own handlers (console only with DEBUG, mail to ADMINS, of which
# there are none) and go through the root too, so a 500's traceback is in the log with DEBUG off as well.
TUBETAGS_LOG_LEVEL = os.environ.get("TUBETAGS_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        }
    },  # gunicorn's own format, plus the logger
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "api": {"level": TUBETAGS_LOG_LEVEL},
        "tubetags": {"level": TUBETAGS_LOG_LEVEL},
        "django": {"handlers": [], "level": "INFO"},
    },
}

# ---- Video jobs: POST /api/jobs, GET /api/jobs/{id} (api/jobs.py; docs/serving.md "Videos and links") ----
# The queue lives in its own Redis (or database): a cache's LRU eviction must never drop queued jobs.
INSTALLED_APPS += ["django_rq"]  # the `rqworker` command
TUBETAGS_JOBS_REDIS_URL = os.environ.get("TUBETAGS_JOBS_REDIS_URL", "redis://127.0.0.1:6379/1")
TUBETAGS_JOBS_QUEUE = "videos"
RQ_QUEUES = {TUBETAGS_JOBS_QUEUE: {"URL": TUBETAGS_JOBS_REDIS_URL}}
# Uploads wait here for the worker: a folder web and worker share (compose: a volume; Kubernetes: a PVC).
TUBETAGS_MEDIA_DIR = os.environ.get("TUBETAGS_MEDIA_DIR", "") or str(
    Path(tempfile.gettempdir()) / f"tubetags-media-{os.getuid()}"
)
TUBETAGS_JOBS_MAX_UPLOAD_BYTES = int(os.environ.get("TUBETAGS_JOBS_MAX_UPLOAD_BYTES", 1024**3))
TUBETAGS_JOBS_MAX_REQUEST_BYTES = TUBETAGS_JOBS_MAX_UPLOAD_BYTES + 1024 * 1024
TUBETAGS_JOBS_MAX_DURATION_S = float(os.environ.get("TUBETAGS_JOBS_MAX_DURATION_S", 2 * 3600))
TUBETAGS_JOBS_MAX_QUEUED = int(os.environ.get("TUBETAGS_JOBS_MAX_QUEUED", 20))  # then 503 with Retry-After
TUBETAGS_JOBS_RESULT_TTL_S = int(os.environ.get("TUBETAGS_JOBS_RESULT_TTL_S", 24 * 3600))
TUBETAGS_JOBS_RATE_LIMIT = os.environ.get("TUBETAGS_JOBS_RATE_LIMIT", "10/m")  # POST /api/jobs per client IP
# The worker's Whisper backend (docs/benchmarks.md: the faster one, as accurate) and its expected real-time factor
# (the ETA before the first segment is done).
TUBETAGS_JOBS_ASR_BACKEND = os.environ.get("TUBETAGS_JOBS_ASR_BACKEND", "faster-whisper")
TUBETAGS_JOBS_EXPECTED_RTF = float(os.environ.get("TUBETAGS_JOBS_EXPECTED_RTF", 0.15))
TUBETAGS_JOBS_TIMEOUT_PER_AUDIO_S = float(os.environ.get("TUBETAGS_JOBS_TIMEOUT_PER_AUDIO_S", 1.0))
TUBETAGS_JOBS_HEARTBEAT_S = int(os.environ.get("TUBETAGS_JOBS_HEARTBEAT_S", 5))
# The uploaded video is shown in the page (a blob: URL) so that evidence times can seek it.
CONTENT_SECURITY_POLICY += "; media-src 'self' blob:"
