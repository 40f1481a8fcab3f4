"""The Spark side of `--engine spark`: PySpark and Java present, where to run, the SparkSession (and
the JVM's console output kept out of leadscore's unless --debug)."""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from pipeline.errors import LeadscoreError

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"
INSTALL_HINT = "pip install 'leadscore[spark]' (or: pip install 'pyspark>=3.5'); Java 17+ must be on PATH"


def require_pyspark() -> None:
    """PySpark is an optional extra: without it, one line saying how to install it (exit 2)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise LeadscoreError(f"--engine spark needs PySpark, which is not installed: {INSTALL_HINT}") from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise LeadscoreError(f"--engine spark needs Java (no `java` on PATH and JAVA_HOME is not set): {INSTALL_HINT}")


def spark_master() -> str:
    return os.environ.get("LEADSCORE_SPARK_MASTER") or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER


def spark_session() -> Any:
    """The SparkSession (created once per process): UTC, Arrow transfers, this Python on the workers.

    The JVM's own console output (log4j lines, stage progress, executor stack traces) goes to an
    unlinked temporary file unless --debug: a failure reaches the user as one line from the driver.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers import leadscore and the model
    debug = log.isEnabledFor(logging.DEBUG)
    builder = (SparkSession.builder.master(spark_master()).appName("leadscore-predict")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.legacy.parquet.nanosAsLong", "true")
               .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.executorEnv.PYTHONWARNINGS", "ignore"))
    with contextlib.nullcontext() if debug else _jvm_output_hidden():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN" if debug else "ERROR")
    return spark


@contextlib.contextmanager
def _jvm_output_hidden() -> Iterator[None]:
    """Start the JVM with its stderr on an unlinked temporary file (it inherits file descriptor 2)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(prefix="leadscore-spark-") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
