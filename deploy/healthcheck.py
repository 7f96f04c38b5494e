"""Container health check: GET /api/health from this container's gunicorn; exit 0 only on 200.

The Dockerfile's HEALTHCHECK (and so compose.yaml) runs it; Kubernetes uses its own httpGet probes
(deploy/k8s/deployment.yaml) with the same two headers:
- Host: Django answers 400 to a Host outside DJANGO_ALLOWED_HOSTS, so send the first allowed host;
- X-Forwarded-Proto: https: with DJANGO_HTTPS=1 behind a TLS proxy (DJANGO_BEHIND_PROXY=1) a plain
  request would be redirected to https. Redirects are not followed: a redirect means unhealthy.
/api/health answers 503 until models:/tubetags@production exists and loads, so "healthy" means
"serving the production model".
"""

import os
import sys
import urllib.error
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx then raises HTTPError instead of going to another host


def main() -> int:
    port = os.environ.get("PORT", "8000")
    allowed = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1").split(",") if h.strip()]
    host = allowed[0].lstrip(".") if allowed else "127.0.0.1"  # ".example.com" allows "example.com"
    if host == "*":
        host = "127.0.0.1"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/health", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=8) as response:
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(f"/api/health answered {exc.code}: {exc.read(300)!r}", file=sys.stderr)
    except OSError as exc:
        print(f"/api/health unreachable: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
