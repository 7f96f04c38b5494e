"""Apache Spark for the jobs that outgrow one process: batch tagging and the corpus build (`--engine spark`).

`session(master)` is the one way a job gets a SparkSession:
- `local[*]`, `local[2]`: Spark in this process's JVM, bound to the loopback interface, no web UI;
- `spark://host:7077`, `yarn`, `k8s://...`: a cluster (the model and the input must be on storage it can read);
- `sc://host:15002`: a Spark Connect server.

Python workers run the interpreter that runs the job (`PYSPARK_PYTHON`), so they import the project's
environment: the same packages as the driver, which `mlflow.pyfunc.spark_udf(env_manager="local")` assumes.
Needs Java 17 (`openjdk-17-jre-headless`, installed by scripts/setup.sh).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import warnings
from typing import Any

from tubetags import settings

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[*]"


class SparkUnavailableError(RuntimeError):
    """Spark cannot start here (no Java, no pyspark); the message says what to install."""


def is_connect(master: str) -> bool:
    return master.startswith("sc://")


def local_cores(master: str) -> int | None:
    """The number of cores of a `local[N]` / `local[*]` / `local` master; None for a cluster."""
    match = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master)
    if not match:
        return None
    return os.cpu_count() or 1 if match.group(1) in (None, "*") else int(match.group(1))


def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME")) or shutil.which("java") is not None


def session(master: str = DEFAULT_MASTER, app_name: str = "tubetags", conf: dict[str, Any] | None = None):
    """A SparkSession on `master` (created, or the active one if it runs on the same master)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - pyspark is in the lock
        raise SparkUnavailableError("pyspark is not installed: `pip install pyspark==4.3.0`") from error
    # Workers (and a local Connect server's workers) run this interpreter: the project's environment.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    # ... and import the project's modules (the functions Spark ships to them are pickled by reference).
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(settings.REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(settings.REPO_ROOT), *filter(None, paths)])
    # pyspark 4.3 supports pandas 3 but still warns on every conversion.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    if is_connect(master):
        builder = SparkSession.builder.remote(master)
    else:
        if not java_available():
            raise SparkUnavailableError(
                "Spark needs Java 17: `apt-get install -y openjdk-17-jre-headless` (scripts/setup.sh installs it)"
            )
        builder = SparkSession.builder.master(master)
        cores = local_cores(master)
        if cores is not None:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # before the JVM starts: never the LAN address
        values: dict[str, Any] = {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            # Arrow moves pandas batches between the JVM and the Python workers (spark_udf, mapInPandas).
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.sql.session.timeZone": "UTC",
            "spark.python.worker.reuse": "true",
        }
        if cores is not None:
            # One machine: stay on the loopback interface, and few shuffle partitions (default 200 is for clusters).
            values |= {
                # Local mode runs the executors inside the driver's JVM: its heap is the cluster's memory.
                "spark.driver.memory": os.environ.get("TUBETAGS_SPARK_MEMORY", "4g"),
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.sql.shuffle.partitions": str(max(2 * cores, 2)),
                "spark.default.parallelism": str(max(2 * cores, 2)),
            }
        for key, value in (values | (conf or {})).items():
            builder = builder.config(key, value)
    spark = builder.appName(app_name).getOrCreate()
    if not is_connect(master):
        spark.sparkContext.setLogLevel("ERROR")
    log.info("Spark %s on %s", spark.version, master)
    return spark


def default_parallelism(spark) -> int:
    """How many tasks keep every core busy (2 on Spark Connect, where the client cannot ask the cluster)."""
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect has no SparkContext
        return int(spark.conf.get("spark.sql.shuffle.partitions", "2"))
