"""Property-based run: schemathesis generates requests from /api/schema and sends them in-process to the
WSGI app (tiny registry). Whatever it sends, no answer is a 5xx, and every answer is JSON."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.slow  # ~30 s on 2 cores


from django.core.wsgi import get_wsgi_application  # noqa: E402  (Django is set up by conftest)

# /api/schema needs no model; the `api` fixture points the app at the tiny registry for the calls.
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_always_json(case, jobs_api):  # the API, with a job queue and recorded YouTube
    response = case.call(headers={"Host": "127.0.0.1"})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.content[:300])
    content_type = response.headers.get("content-type", [""])[0]
    if case.path == "/api/schema" and response.status_code == 200:
        assert "openapi" in content_type  # the schema itself: OpenAPI JSON, or YAML with ?format=yaml
    else:
        assert content_type.startswith("application/json"), (case.method, case.path, content_type)
