"""The model registry on PostgreSQL: log, register, alias, load by alias and predict.

A throw-away PostgreSQL cluster (initdb in a temporary folder, a free loopback port) holds the
store. The round trip runs twice: straight against a `postgresql://` tracking URI, and through
`scripts/tracking_server.sh` (the `make tracking-server` script: `mlflow server` with
--serve-artifacts) with an http:// tracking URI, the way the web app and the training jobs use a
shared server. A last test lets the script create, stop and reuse its own cluster.
Skipped only where PostgreSQL's binaries (Debian: postgresql, installed by scripts/setup.sh) are missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "tracking_server.sh"
sys.path.insert(0, str(REPO / "tests" / "code" / "webapp"))  # tiny_registry: a tiny real TF-IDF tagger

pytestmark = pytest.mark.slow

COOKING = "today we bake bread in the oven with flour butter and sugar, knead the dough, salt, taste " * 20


def _pg_bindir() -> Path | None:
    """initdb/pg_ctl: on PATH (possibly a symlink), else Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    majors = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    return majors[-1] if majors else None


BINDIR = _pg_bindir()
if BINDIR is None or not (BINDIR / "initdb").exists():
    pytest.skip(
        "PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's postgresql "
        "(scripts/setup.sh does when run as root)",
        allow_module_level=True,
    )


def _db_user() -> str | None:
    """PostgreSQL refuses to run as root: then the cluster runs as `postgres` (or `nobody`)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip("running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL")


def _as_db_user(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    user = _db_user()
    prefix = ["runuser", "-u", user, "--"] if user else []
    return subprocess.run(prefix + [str(a) for a in args], check=True, capture_output=True, text=True, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shared_tmpdir() -> Path:
    """A temporary folder the database user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="tubetags-pg-"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def postgres():
    """A running throw-away cluster; yields a function that creates a database and returns its URI."""
    root = _shared_tmpdir()
    data = root / "data"
    data.mkdir(mode=0o700)
    user = _db_user()
    if user:
        shutil.chown(data, user=user)
    port = _free_port()
    # trust: a private cluster on loopback for the length of this module (the script's own cluster
    # uses a password; see test_script_creates_stops_and_reuses_its_own_cluster).
    _as_db_user([BINDIR / "initdb", "-D", data, "-U", "mlflow", "--auth=trust", "-E", "UTF8"])
    _as_db_user(
        [
            BINDIR / "pg_ctl",
            "-D",
            data,
            "-l",
            data / "server.log",
            "-w",
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            "start",
        ]
    )

    def create_database(name: str) -> str:
        _as_db_user([BINDIR / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "mlflow", name])
        # The driver is explicit: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, the lock has psycopg2.
        return f"postgresql+psycopg2://mlflow@127.0.0.1:{port}/{name}"

    try:
        yield create_database
    finally:
        _as_db_user([BINDIR / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def restore_mlflow_uris():
    """The round trips point MLflow's process-wide URIs elsewhere; put them back for later tests."""
    import mlflow

    tracking, registry_uri = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    yield
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry_uri)


def _round_trip(uri: str, workdir: Path, artifact_location: str | None) -> str:
    """Log a tiny real predictor, register it, alias it @production, load it by alias, predict.

    Returns the experiment's artifact location.
    """
    import mlflow
    import pandas as pd
    from tiny_registry import _train

    from tubetags import registry

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.create_experiment("postgres-round-trip", artifact_location=artifact_location)
    with mlflow.start_run(experiment_id=experiment):
        info = registry.log_predictor(_train(workdir, seed=1), workdir / "work")
    version = str(info.registered_model_version)
    assert version == "1"

    client = mlflow.MlflowClient()
    client.set_registered_model_alias(registry.registered_model(), registry.PRODUCTION, version)
    # str(): the SQL stores hand the version back as an int on some paths, a str on others
    assert str(client.get_model_version_by_alias(registry.registered_model(), registry.PRODUCTION).version) == version
    assert client.get_model_version(registry.registered_model(), version).tags["strategy"] == "baseline"

    model = mlflow.pyfunc.load_model(registry.model_uri(registry.PRODUCTION))
    out = model.predict(pd.DataFrame({"transcript": [COOKING]}), params={"k": 3})
    tags, scores = list(out.iloc[0]["tags"]), list(out.iloc[0]["scores"])
    assert tags[0] == "cooking"
    assert len(tags) == 3 and scores == sorted(scores, reverse=True)
    return mlflow.get_experiment(experiment).artifact_location


def test_registry_round_trip_on_postgresql_uri(postgres, tmp_path, restore_mlflow_uris):
    uri = postgres("direct")
    location = _round_trip(uri, tmp_path, artifact_location=(tmp_path / "artifacts").as_uri())
    assert list((tmp_path / "artifacts").rglob("MLmodel")), "the model's files were not written"
    assert location.startswith("file:")


class TrackingServer:
    """scripts/tracking_server.sh in its own process group, on free loopback ports."""

    def __init__(self, env: dict[str, str | None], log: Path):
        self.port = _free_port()
        env = {
            **os.environ,
            **env,
            "TRACKING_PORT": str(self.port),
            "TRACKING_WORKERS": "1",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            # `mlflow` from this interpreter's environment, as under `make`
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env = {key: value for key, value in env.items() if value is not None}  # None: unset it
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["bash", str(SCRIPT)],
            cwd=REPO,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"tracking server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        pytest.fail(f"tracking server not healthy after {timeout_s:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self, timeout_s: float = 90) -> int:
        """TERM the script (it stops the server, then any cluster it started); KILL the group if stuck."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                pytest.fail(f"tracking_server.sh did not stop within {timeout_s:.0f} s of SIGTERM")
        return self.proc.returncode


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_registry_round_trip_through_tracking_server(postgres, tmp_path, restore_mlflow_uris):
    """http:// tracking URI: runs, registry and (proxied) artifacts all go through the server."""
    artifacts = tmp_path / "served-artifacts"
    # A bare postgresql:// as a user would write it: the script adds the psycopg2 driver.
    uri = postgres("served").replace("postgresql+psycopg2://", "postgresql://")
    server = TrackingServer(
        {"TUBETAGS_POSTGRES_URI": uri, "TUBETAGS_ARTIFACTS_DIR": str(artifacts)}, tmp_path / "server.log"
    )
    try:
        server.wait_healthy()
        # No artifact_location: the server's default, mlflow-artifacts:/, uploads through the server.
        location = _round_trip(server.url, tmp_path, artifact_location=None)
        assert location.startswith("mlflow-artifacts:")
        assert list(artifacts.rglob("MLmodel")), "the server did not store the model's files"
        # ... and the registry is in PostgreSQL (not some other store the server fell back to)
        import psycopg2

        with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT name, alias, version FROM registered_model_aliases")
            assert cursor.fetchall() == [("tubetags", "production", 1)]
    finally:
        server.stop()
    assert _port_closed(server.port)


def test_script_creates_stops_and_reuses_its_own_cluster(tmp_path, restore_mlflow_uris):
    """No TUBETAGS_POSTGRES_URI: initdb once (password auth), stop it with the server, reuse it next time."""
    import mlflow

    root = _shared_tmpdir()
    pgdir = root / "postgres"
    env = {
        "TUBETAGS_POSTGRES_DIR": str(pgdir),
        "TUBETAGS_POSTGRES_PORT": str(_free_port()),
        "TUBETAGS_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "TUBETAGS_POSTGRES_URI": None,
    }
    try:
        first = TrackingServer(env, tmp_path / "first.log")
        try:
            first.wait_healthy()
            mlflow.MlflowClient(first.url).create_experiment("kept-across-restarts")
        finally:
            first.stop()
        assert (pgdir / "PG_VERSION").exists()
        assert (root / "postgres.password").stat().st_mode & 0o077 == 0, "the password file must be private"
        with pytest.raises(subprocess.CalledProcessError) as status:  # pg_ctl status: 3 = not running
            _as_db_user([BINDIR / "pg_ctl", "-D", pgdir, "status"])
        assert status.value.returncode == 3, "the cluster the script started must be stopped with it"

        second = TrackingServer(env, tmp_path / "second.log")
        try:
            second.wait_healthy()
            assert "initialising" not in (tmp_path / "second.log").read_text()
            assert mlflow.MlflowClient(second.url).get_experiment_by_name("kept-across-restarts") is not None
        finally:
            second.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
