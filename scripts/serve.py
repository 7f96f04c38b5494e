"""`make serve`: gunicorn (webapp/gunicorn.conf.py) behind nginx (deploy/nginx/proxy.conf), as deployed.

    python scripts/serve.py            # http://127.0.0.1:8000; HOST, PORT to change

nginx listens on HOST:PORT and reads every request in full before gunicorn, on a free loopback port, gets it:
a client that sends slowly costs nginx a connection, never a gunicorn worker (docs/serving.md#the-proxy-in-front).
Production settings by default: DEBUG off, a random DJANGO_SECRET_KEY for this run when none is set (the app
signs nothing that outlives it), plain HTTP (DJANGO_HTTPS=0: loopback), the client address from nginx's
X-Real-IP. `DJANGO_DEBUG=1 make serve` turns Django's debug pages on, for development only.
Logs are UTC (TZ=UTC), like the app's. Ctrl-C stops both servers.

TUBETAGS_PROXY=off runs gunicorn alone on HOST:PORT (no nginx installed): then a slow client can hold a worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEBAPP = REPO / "webapp"
PROXY_RULES = REPO / "deploy" / "nginx" / "proxy.conf"
LOOPBACK = "127.0.0.1"

log = logging.getLogger("serve")

NGINX_CONF = """\
# Written by scripts/serve.py for one run; the request rules are {rules}.
worker_processes 1;
pid {folder}/nginx.pid;
error_log stderr warn;
daemon off;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;  # gunicorn logs every request
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    upstream tubetags_app {{
        server {upstream};
    }}

    server {{
        listen {listen};
        include {rules};
    }}
}}
"""


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None)


def serve_env(environ: Mapping[str, str]) -> dict[str, str]:
    """`make serve`'s environment: production settings unless DJANGO_DEBUG=1 (see the module's docstring)."""
    env = dict(environ)
    env.setdefault("DJANGO_DEBUG", "0")
    env["TZ"] = "UTC"
    if env["DJANGO_DEBUG"].strip().lower() not in {"1", "true", "yes", "on"}:
        if not env.get("DJANGO_SECRET_KEY"):
            env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
        env.setdefault("DJANGO_HTTPS", "0")
    env.setdefault("TUBETAGS_CLIENT_IP_HEADER", "HTTP_X_REAL_IP")  # set by nginx, never by the client
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    return env


def _stop(proc: subprocess.Popen, wait_s: float = 35) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def nginx(listen: str, upstream: str, env: Mapping[str, str] | None = None, stderr=None) -> Iterator[subprocess.Popen]:
    """nginx on `listen` (host:port) in front of `upstream` (host:port), with deploy/nginx/proxy.conf; its
    configuration and temporary files in a folder of its own, removed afterwards."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError(
            "nginx is not installed: `make setup` (as root) or `apt-get install nginx` installs it "
            "(or TUBETAGS_PROXY=off make serve runs gunicorn alone, without the slow-client protection)."
        )
    folder = Path(tempfile.mkdtemp(prefix="tubetags-nginx-"))
    folder.chmod(0o755)  # started as root, nginx's workers run as an unprivileged user: they need the temp paths
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(folder=folder, upstream=upstream, listen=listen, rules=PROXY_RULES))
    command = [binary, "-p", str(folder), "-e", "stderr", "-c", str(conf)]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if checked.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"nginx refused its configuration:\n{checked.stderr}")
    proc = subprocess.Popen(command, env=env, stderr=stderr, start_new_session=True)
    try:
        yield proc
    finally:
        _stop(proc, wait_s=10)
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_port(
    host: str, port: int, timeout_s: float, proc: subprocess.Popen | None = None, name: str = "gunicorn"
) -> None:
    """Until something accepts connections on host:port; an error if `proc` exits first or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout_s:g} s")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [serve] %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    logging.Formatter.converter = time.gmtime
    env = serve_env(os.environ)
    host, port = env.get("HOST", LOOPBACK), env.get("PORT", "8000")
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tubetags_site.wsgi"]
    debug = env["DJANGO_DEBUG"].strip().lower() in {"1", "true", "yes", "on"}
    log.info("DEBUG %s", "on (development only)" if debug else "off (DJANGO_DEBUG=1 make serve for debug pages)")
    if env.get("TUBETAGS_PROXY", "").strip().lower() in {"off", "0", "no", "false"}:
        log.warning("TUBETAGS_PROXY=off: gunicorn alone on %s:%s, a slow client can hold a worker", host, port)
        os.chdir(WEBAPP)
        os.execve(sys.executable, gunicorn, env)
    app_port = free_port()
    app = subprocess.Popen(gunicorn, cwd=WEBAPP, env={**env, "HOST": LOOPBACK, "PORT": str(app_port)})
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_for_port(LOOPBACK, app_port, timeout_s=120, proc=app)
        with nginx(f"{host}:{port}", f"{LOOPBACK}:{app_port}", env=env) as proxy:
            log.info("serving on http://%s:%s (nginx -> gunicorn on %s:%d)", host, port, LOOPBACK, app_port)
            while not stopping and app.poll() is None and proxy.poll() is None:
                time.sleep(0.5)
            if not stopping:
                log.error("%s exited: stopping", "gunicorn" if app.poll() is not None else "nginx")
                return 1
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(timeout=35)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
