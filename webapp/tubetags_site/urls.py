from django.conf import settings
from django.urls import path, re_path
from django.views.static import serve
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from api import jobs_views, views
from api.prometheus import metrics_view

urlpatterns = [
    path("", views.index, name="index"),
    path("api/health", views.HealthView.as_view(), name="health"),
    path("api/models", views.ModelsView.as_view(), name="models"),
    path("api/tags", views.TagsView.as_view(), name="tags"),
    # Video jobs (api/jobs.py) and the tag box meter.
    path("api/jobs", jobs_views.JobsView.as_view(), name="jobs"),
    path("api/jobs/<str:job_id>", jobs_views.JobView.as_view(), name="job"),
    path("api/tags/fit", jobs_views.FitView.as_view(), name="tags-fit"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; loopback or TUBETAGS_METRICS_TOKEN
    # OpenAPI 3 schema, JSON by default (?format=yaml for YAML). No Swagger UI: it loads from a CDN.
    path(
        "api/schema",
        SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer, OpenApiYamlRenderer]),
        name="schema",
    ),
    # The demo page's own two static files; no collectstatic or WhiteNoise needed for that.
    re_path(r"^static/(?P<path>.+)$", serve, {"document_root": settings.STATIC_DIR}),
]

handler400 = "api.errors.handler400"
handler403 = "api.errors.handler403"
handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
